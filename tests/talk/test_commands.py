from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from talk.models import Message

pytestmark = pytest.mark.django_db


def make(room, seq: int, age_days: int) -> Message:
    return Message.objects.create(
        room=room,
        seq=seq,
        name="허웅",
        text=f"{age_days} days old",
        session_hash="s",
        ip_hash="i",
        created_at=timezone.now() - timedelta(days=age_days),
    )


@pytest.fixture
def room(db):
    from talk.models import Room

    return Room.objects.create(slug="cleanup", name="cleanup")


def test_cleanup_keeps_messages_within_the_retention_setting(room, settings) -> None:
    settings.TALK_RETENTION_DAYS = 7
    make(room, 1, 10)
    recent = make(room, 2, 3)
    out = StringIO()
    call_command("talk_cleanup", stdout=out)
    assert list(Message.objects.all()) == [recent]
    assert "Deleted 1 messages older than 7 days." in out.getvalue()


def test_cleanup_takes_the_retention_from_the_command_line(room) -> None:
    make(room, 1, 3)
    call_command("talk_cleanup", "--days=2", stdout=StringIO())
    assert not Message.objects.exists()


def test_cleanup_refuses_a_negative_retention(room) -> None:
    with pytest.raises(CommandError):
        call_command("talk_cleanup", "--days=-1")
