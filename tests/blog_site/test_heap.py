"""When blog_site.serve freezes the heap as WebSocket connections pile up."""

from __future__ import annotations

import asyncio
import gc

from blog_site.heap import SocketFreezer, freeze_heap

QUIET = 0.05
LATEST = 0.3


def freezer(calls: list[int]) -> SocketFreezer:
    holder: list[SocketFreezer] = []
    found = SocketFreezer(
        lambda: calls.append(holder[0].open), first=64, quiet=QUIET, latest=LATEST
    )
    holder.append(found)
    return found


def test_a_join_storm_is_frozen_once_at_its_end_the_next_at_twice_as_many() -> None:
    async def run() -> tuple[list[int], SocketFreezer]:
        calls: list[int] = []
        sockets = freezer(calls)
        for _ in range(63):
            sockets.opened()
        await asyncio.sleep(QUIET * 3)
        assert calls == []  # under the first threshold: nothing to gain
        for _ in range(187):  # the storm goes on past the threshold
            sockets.opened()
        await asyncio.sleep(QUIET * 3)
        assert calls == [250]  # once, with every connection of the storm open
        for _ in range(100):  # 350 open: under twice 250
            sockets.opened()
        await asyncio.sleep(QUIET * 3)
        return calls, sockets

    calls, sockets = asyncio.run(run())
    assert calls == [250]
    assert sockets.freeze_at == 500


def test_a_steady_trickle_of_connections_cannot_put_the_freeze_off() -> None:
    async def run() -> list[int]:
        calls: list[int] = []
        sockets = freezer(calls)
        for _ in range(64):
            sockets.opened()
        # One more every half quiet period, for twice the longest wait.
        for _ in range(int(LATEST * 2 / (QUIET / 2))):
            await asyncio.sleep(QUIET / 2)
            sockets.opened()
            if calls:
                break
        return calls

    calls = asyncio.run(run())
    assert len(calls) == 1


def test_no_freeze_when_the_connections_left_before_it() -> None:
    async def run() -> tuple[list[int], SocketFreezer]:
        calls: list[int] = []
        sockets = freezer(calls)
        for _ in range(64):
            sockets.opened()
        for _ in range(10):
            sockets.closed()
        await asyncio.sleep(QUIET * 3)
        return calls, sockets

    calls, sockets = asyncio.run(run())
    assert calls == []
    assert sockets.open == 54
    assert sockets.freeze_at == 64


def test_freezing_moves_what_is_alive_out_of_the_collectors_sight() -> None:
    kept = [[n] for n in range(1000)]  # tracked containers, alive
    before = gc.get_freeze_count()
    try:
        freeze_heap()
        assert gc.get_freeze_count() >= before + len(kept)
        assert not any(
            gc.is_tracked(item) and item in gc.get_objects() for item in kept[:3]
        )
    finally:
        gc.unfreeze()
