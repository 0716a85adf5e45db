from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Group names become `talk.room.<slug>`, which Channels limits to ASCII
# letters, digits, hyphens, underscores and periods under 100 characters.
room_slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*\Z",
    _("Use lowercase letters, digits, hyphens and underscores."),
)


class Room(models.Model):
    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, validators=[room_slug_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The sequence number of the room's newest message. Message creation locks
    # this row, so sequence numbers (and primary keys) within a room follow
    # commit order with no gaps: a consumer that sees seq 7 after 5 knows
    # exactly what to fetch.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        if self.slug == settings.TALK_DEFAULT_ROOM:
            return reverse("talk:lobby")
        return reverse("talk:room", kwargs={"slug": self.slug})


class MessageQuerySet(models.QuerySet["Message"]):
    def visible(self) -> MessageQuerySet:
        return self.filter(deleted_at__isnull=True)


class Message(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", verbose_name=_("room")
    )
    seq = models.PositiveBigIntegerField(_("sequence"), editable=False)
    name = models.CharField(_("name"), max_length=32)
    text = models.TextField(_("text"))
    # Keyed HMACs of the session key and the client address: enough to block a
    # sender, useless to anyone reading the table.
    session_hash = models.CharField(_("session"), max_length=64, db_index=True)
    ip_hash = models.CharField(
        _("IP address"), max_length=64, blank=True, db_index=True
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True
    )
    # Deleting hides the message everywhere but keeps the row for moderators
    # until the retention period removes it.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "seq"], name="talk_message_room_seq"
            )
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.name}: {self.text[:50]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class BlockQuerySet(models.QuerySet["Block"]):
    def active(self) -> BlockQuerySet:
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class Block(models.Model):
    session_hash = models.CharField(
        _("session"), max_length=64, blank=True, db_index=True
    )
    ip_hash = models.CharField(
        _("IP address"), max_length=64, blank=True, db_index=True
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to block until the block is deleted."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = BlockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(session_hash="") | ~Q(ip_hash=""),
                name="talk_block_has_target",
            )
        ]
        verbose_name = _("block")
        verbose_name_plural = _("blocks")

    def __str__(self) -> str:
        target = f"session {self.session_hash[:8]}" if self.session_hash else ""
        if self.ip_hash:
            target = f"{target} IP {self.ip_hash[:8]}".strip()
        return target
