import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def original_key(instance: "Image", filename: str) -> str:
    """Objects live under a key derived from the UUID, never the upload name."""
    return f"images/{instance.pk}/original"


class Image(models.Model):
    """An uploaded picture; linked from posts as /images/<uuid>."""

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        GIF = "GIF", "GIF"
        WEBP = "WEBP", "WebP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(_("file"), upload_to=original_key, max_length=255)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    alt = models.CharField(_("alt text"), max_length=300, blank=True)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Widths of the smaller copies stored next to the original (WebP and the
    # original format each); empty for animations and small images.
    renditions = models.JSONField(_("rendition widths"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.alt or str(self.id)

    def get_absolute_url(self) -> str:
        # A post page asks up to eight times for its thumbnail's URL (preload,
        # srcsets, social cards, JSON-LD) and the key never changes: reverse()
        # once per instance.
        url: str | None = self.__dict__.get("_absolute_url")
        if url is None:
            url = reverse("media_store:image", kwargs={"pk": self.pk})
            self.__dict__["_absolute_url"] = url
        return url

    @property
    def content_type(self) -> str:
        return f"image/{self.format.lower()}"

    @property
    def markdown(self) -> str:
        """The snippet that puts this image in a post body."""
        alt = " ".join(self.alt.replace("[", "").replace("]", "").split())
        return f"![{alt}]({self.get_absolute_url()})"
