from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = _("Posts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from posts import signals

        signals.connect()
        _register_image_usage()


def _register_image_usage() -> None:
    """Tell media_store where an image is shown, so it refuses to delete it."""
    from media_store.usage import register_usage_finder
    from posts.selectors import post_image_usages

    register_usage_finder(post_image_usages)
