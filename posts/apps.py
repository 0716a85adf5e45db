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
    """Tell media_store where an image is shown (when it offers the hook)."""
    try:
        from media_store.usage import Usage, register_usage_finder
    except ImportError:
        return

    from django.db.models import Q

    from posts.models import Post

    def post_usages(image):  # type: ignore[no-untyped-def]
        for post in (
            Post.objects.filter(Q(thumbnail=image) | Q(images=image))
            .select_related("category")
            .distinct()
        ):
            yield Usage(label=f"Post “{post.title}”", url=post.get_absolute_url())

    register_usage_finder(post_usages)
