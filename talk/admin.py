from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from talk.models import Block, Message, Room
from talk.services import block_create, chat_message_delete


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "last_seq", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["last_seq"]


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("no", _("Visible")), ("yes", _("Deleted"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "name", "short_text", "created_at", "is_deleted"]
    list_filter = ["room", DeletedFilter, "created_at"]
    list_select_related = ["room"]
    search_fields = ["text", "name", "session_hash", "ip_hash"]
    ordering = ["-id"]
    date_hierarchy = "created_at"
    actions = ["delete_from_chat", "block_sessions", "block_addresses"]
    readonly_fields = [
        "room",
        "seq",
        "name",
        "text",
        "session_hash",
        "ip_hash",
        "created_at",
        "deleted_at",
        "deleted_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages come from the room, never from the admin

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Deleting goes through the service so connected clients hear of it.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("text"))
    def short_text(self, obj: Message) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.display(description=_("deleted"), boolean=True)
    def is_deleted(self, obj: Message) -> bool:
        return obj.is_deleted

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        chat_message_delete(message=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for message in queryset.select_related("room"):
            chat_message_delete(message=message, by=request.user)

    @admin.action(
        description=_("Delete from the chat (connected clients too)"),
        permissions=["delete"],
    )
    def delete_from_chat(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for message in queryset.select_related("room").filter(deleted_at__isnull=True):
            chat_message_delete(message=message, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%d message deleted.", "%d messages deleted.", count) % count,
            messages.SUCCESS,
        )

    def _block(self, request: HttpRequest, queryset: QuerySet, field: str) -> None:
        targets = set(queryset.values_list(field, flat=True)) - {""}
        for target in targets:
            block_create(
                **{field: target},
                reason=_("Blocked from the admin"),
                by=request.user,
            )
        self.message_user(
            request,
            ngettext("%d block created.", "%d blocks created.", len(targets))
            % len(targets),
            messages.SUCCESS,
        )

    @admin.action(description=_("Block the senders' sessions"), permissions=["change"])
    def block_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._block(request, queryset, "session_hash")

    @admin.action(
        description=_("Block the senders' IP addresses"), permissions=["change"]
    )
    def block_addresses(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._block(request, queryset, "ip_hash")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reason", "created_at", "expires_at", "created_by"]
    search_fields = ["session_hash", "ip_hash", "reason"]
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request: HttpRequest, obj: Block, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
