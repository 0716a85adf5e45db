"""The test settings with channels_redis' core layer instead of pub/sub, for
the tests that check the chat works on both layers (as bench/ measures)."""

from blog_site.settings.test import *  # noqa: F403
from blog_site.settings.test import REDIS_URL

CORE_LAYER_PREFIX = "bdg:test:core"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": CORE_LAYER_PREFIX},
    }
}
