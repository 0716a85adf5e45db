from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.urls import reverse

from talk import services
from talk.broadcast import room_group
from talk.models import Block, Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def messages(room) -> list[Message]:
    return [
        services.chat_message_create(
            room=room, name=name, text="hi", session_hash=sid, ip_hash=ip
        )
        for name, sid, ip in [("허웅", "s1", "i1"), ("허훈", "s2", "i1")]
    ]


def test_the_message_list_loads(admin_client, messages) -> None:
    response = admin_client.get(reverse("admin:talk_message_changelist"))
    assert response.status_code == 200
    field = response.context["action_form"].fields["action"]
    actions = {value for value, _ in field.choices}
    assert "delete_from_chat" in actions
    assert "delete_selected" not in actions  # it would bypass the broadcast


def test_anonymous_users_cannot_reach_the_admin(client, messages) -> None:
    response = client.get(reverse("admin:talk_message_changelist"))
    assert response.status_code == 302


def test_deleting_from_the_admin_tells_connected_clients(
    admin_client, admin_user, room, messages
) -> None:
    layer = get_channel_layer()

    async def listen_then_delete() -> dict:
        # A channel in the room's group stands in for a connected client.
        channel = await layer.new_channel()
        await layer.group_add(room_group(room.slug), channel)
        await sync_to_async(admin_client.post)(
            reverse("admin:talk_message_changelist"),
            {"action": "delete_from_chat", "_selected_action": [messages[0].pk]},
        )
        return await layer.receive(channel)

    event = async_to_sync(listen_then_delete)()
    assert event["type"] == "chat.deleted" and event["id"] == messages[0].pk
    messages[0].refresh_from_db()
    assert messages[0].is_deleted and messages[0].deleted_by == admin_user
    assert not Message.objects.get(pk=messages[1].pk).is_deleted


def test_the_delete_button_hides_the_message(admin_client, messages) -> None:
    url = reverse("admin:talk_message_delete", args=[messages[0].pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert Message.objects.get(pk=messages[0].pk).is_deleted


@pytest.mark.parametrize(
    ("action", "field", "expected"),
    [
        ("block_sessions", "session_hash", {"s1", "s2"}),
        ("block_addresses", "ip_hash", {"i1"}),
    ],
)
def test_blocking_the_senders_from_the_admin(
    admin_client, admin_user, messages, action, field, expected
) -> None:
    admin_client.post(
        reverse("admin:talk_message_changelist"),
        {"action": action, "_selected_action": [m.pk for m in messages]},
    )
    blocks = Block.objects.all()
    assert {getattr(b, field) for b in blocks} == expected
    assert all(b.created_by == admin_user and b.expires_at for b in blocks)
    with pytest.raises(services.Blocked):
        services.chat_message_create(
            room=messages[0].room,
            name="허웅",
            text="again",
            session_hash="s1",
            ip_hash="i1",
        )
