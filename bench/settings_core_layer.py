"""The site's production settings with channels_redis' core layer instead of
pub/sub, so the chat benchmark can measure both layers on the same code."""

from blog_site.settings.base import *  # noqa: F403
from blog_site.settings.base import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "bdg:bench:core"},
    }
}
