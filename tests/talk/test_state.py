"""Presence and rate limits: the Redis state every replica shares, and the
in-memory twin the bare-machine run command uses, hold the same rules."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio

from talk.state import LocalRoomState, RedisRoomState, get_redis

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture(params=["redis", "local"])
async def state(request):
    if request.param == "redis":
        return RedisRoomState(get_redis())
    return LocalRoomState()


@pytest.fixture
def slug() -> str:
    return f"state-{uuid.uuid4().hex[:10]}"


async def test_the_count_is_of_visitors_not_tabs(state, slug) -> None:
    first = await state.join(room=slug, channel="c1", sid="a", name="허웅")
    assert (first.ok, first.other_tabs, first.count) == (True, 0, 1)
    tab = await state.join(room=slug, channel="c2", sid="a", name="허웅")
    assert (tab.ok, tab.other_tabs, tab.count) == (True, 1, 1)
    other = await state.join(room=slug, channel="c3", sid="b", name="허훈")
    assert other.count == 2

    left = await state.leave(room=slug, channel="c1", sid="a")
    assert (left.other_tabs, left.count) == (1, 2)
    left = await state.leave(room=slug, channel="c2", sid="a")
    assert (left.other_tabs, left.count) == (0, 1)


async def test_a_name_held_by_another_visitor_is_refused(state, slug) -> None:
    await state.join(room=slug, channel="c1", sid="a", name="허웅")
    taken = await state.join(room=slug, channel="c2", sid="b", name="허웅")
    assert not taken.ok and taken.count == 1
    # A refresh (after a Redis restart) never locks a connection out.
    refreshed = await state.join(
        room=slug, channel="c2", sid="b", name="허웅", refresh=True
    )
    assert refreshed.ok


async def test_rename_moves_every_tab_and_refuses_a_taken_name(state, slug) -> None:
    await state.join(room=slug, channel="c1", sid="a", name="허웅")
    await state.join(room=slug, channel="c2", sid="a", name="허웅")
    await state.join(room=slug, channel="c3", sid="b", name="허훈")
    assert not await state.rename(room=slug, sid="a", name="허훈")
    assert await state.rename(room=slug, sid="a", name="농구왕")
    # The old name is free again; the new one is not.
    assert (await state.join(room=slug, channel="c4", sid="c", name="허웅")).ok
    assert not (await state.join(room=slug, channel="c5", sid="d", name="농구왕")).ok


async def test_an_entry_that_is_not_refreshed_expires(state, slug, settings) -> None:
    settings.TALK_PRESENCE_TTL_SECONDS = 0.3
    await state.join(room=slug, channel="c1", sid="a", name="허웅")
    await asyncio.sleep(0.4)
    result = await state.join(room=slug, channel="c2", sid="b", name="허웅")
    assert result.ok and result.count == 1  # the ghost and its name are gone


async def test_the_rate_limit_counts_per_bucket(state, slug) -> None:
    results = [await state.hit(bucket=slug, limit=3, window=60) for _ in range(4)]
    assert results == [True, True, True, False]
    assert await state.hit(bucket=slug + "-other", limit=3, window=60)


async def test_the_room_head_only_moves_forward(state, slug) -> None:
    assert await state.head(room=slug) == 0
    await state.set_head(room=slug, seq=5)
    await state.set_head(room=slug, seq=3)
    assert await state.head(room=slug) == 5
