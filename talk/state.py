"""Live room state shared by every replica: presence, rate limits, room heads.

With Redis (production, tests) the state lives in Redis behind one shared
async connection pool per process and event loop; a connection per message
would cost a TCP handshake each time and exhaust Redis under load. Without
Redis (the bare-machine run command, one process) the same interface keeps
it in memory.

Presence: each room has a sorted set of connections scored by expiry time
and a hash of connection -> "<session hash>|<name>". Every connection
refreshes its entry on a heartbeat, so the connections of a replica that
died stop counting after the TTL: no ghost users. The online count is the
number of distinct sessions, so two tabs of one visitor count once.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from blog_site.redis_async import async_redis

StateError = RedisError

_PRUNE = """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('HDEL', KEYS[2], unpack(dead))
end
"""

_SCAN = """
local entries = redis.call('HGETALL', KEYS[2])
local sids, count, same, taken = {}, 0, 0, 0
for i = 1, #entries, 2 do
  if entries[i] ~= channel then
    local v = entries[i + 1]
    local sep = string.find(v, '|', 1, true)
    local sid, name = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)
    if sid == my_sid then same = same + 1 elseif name == my_name then taken = 1 end
    if not sids[sid] then sids[sid] = true; count = count + 1 end
  end
end
"""

# ARGV: now, expires_at, channel, sid, name, mode ("join" refuses a name held
# by another session; "refresh" re-adds after a Redis restart), key TTL.
# Returns {ok, other connections of this session, distinct sessions}.
_JOIN = (
    _PRUNE
    + "local channel, my_sid, my_name = ARGV[3], ARGV[4], ARGV[5]\n"
    + _SCAN
    + """
if taken == 1 and ARGV[6] == 'join' then return {0, same, count} end
redis.call('ZADD', KEYS[1], ARGV[2], channel)
redis.call('HSET', KEYS[2], channel, my_sid .. '|' .. my_name)
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[7])
if not sids[my_sid] then count = count + 1 end
return {1, same, count}
"""
)

# ARGV: now, channel, sid. Returns {other connections of this session, count}.
_LEAVE = (
    "redis.call('ZREM', KEYS[1], ARGV[2]); redis.call('HDEL', KEYS[2], ARGV[2])\n"
    + _PRUNE
    + "local channel, my_sid, my_name = ARGV[2], ARGV[3], ''\n"
    + _SCAN
    + "return {same, count}\n"
)

# ARGV: now, sid, new name. Renames every connection of the session.
_RENAME = (
    _PRUNE
    + "local channel, my_sid, my_name = '', ARGV[2], ARGV[3]\n"
    + _SCAN
    + """
if taken == 1 then return 0 end
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local v = entries[i + 1]
  if string.sub(v, 1, #my_sid + 1) == my_sid .. '|' then
    redis.call('HSET', KEYS[2], entries[i], my_sid .. '|' .. my_name)
  end
end
return 1
"""
)


# How long the per-day over-capacity counts are kept.
OVER_CAPACITY_DAYS = 35


@dataclass(frozen=True)
class JoinResult:
    ok: bool
    other_tabs: int
    count: int


@dataclass(frozen=True)
class LeaveResult:
    other_tabs: int
    count: int


class RoomState(Protocol):
    async def join(
        self, *, room: str, channel: str, sid: str, name: str, refresh: bool = False
    ) -> JoinResult: ...

    async def leave(self, *, room: str, channel: str, sid: str) -> LeaveResult: ...

    async def rename(self, *, room: str, sid: str, name: str) -> bool: ...

    async def hit(self, *, bucket: str, limit: int, window: int) -> bool:
        """Count one event in `bucket`; False once `limit` per window is passed."""
        ...

    async def set_head(self, *, room: str, seq: int) -> None: ...

    async def head(self, *, room: str) -> int: ...

    async def count_over_capacity(self, *, room: str, day: str) -> int:
        """Count one connection dropped for falling behind; returns the day's total."""
        ...

    async def over_capacity(self, *, days: list[str]) -> dict[tuple[str, str], int]:
        """{(room, day): drops} for the given days (YYYY-MM-DD)."""
        ...


def _key_ttl() -> int:
    return int(settings.TALK_PRESENCE_TTL_SECONDS * 2) + 1


class RedisRoomState:
    prefix = "talk"

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._join = client.register_script(_JOIN)
        self._leave = client.register_script(_LEAVE)
        self._rename = client.register_script(_RENAME)

    def _keys(self, room: str) -> list[str]:
        return [f"{self.prefix}:online:{room}", f"{self.prefix}:names:{room}"]

    async def join(
        self, *, room: str, channel: str, sid: str, name: str, refresh: bool = False
    ) -> JoinResult:
        now = time.time()
        ok, same, count = await self._join(
            keys=self._keys(room),
            args=[
                now,
                now + settings.TALK_PRESENCE_TTL_SECONDS,
                channel,
                sid,
                name,
                "refresh" if refresh else "join",
                _key_ttl(),
            ],
        )
        return JoinResult(ok=bool(ok), other_tabs=int(same), count=int(count))

    async def leave(self, *, room: str, channel: str, sid: str) -> LeaveResult:
        same, count = await self._leave(
            keys=self._keys(room), args=[time.time(), channel, sid]
        )
        return LeaveResult(other_tabs=int(same), count=int(count))

    async def rename(self, *, room: str, sid: str, name: str) -> bool:
        return bool(
            await self._rename(keys=self._keys(room), args=[time.time(), sid, name])
        )

    async def hit(self, *, bucket: str, limit: int, window: int) -> bool:
        key = f"{self.prefix}:rate:{bucket}:{int(time.time() // window)}"
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, window * 2)
            count, _ = await pipe.execute()
        return int(count) <= limit

    async def set_head(self, *, room: str, seq: int) -> None:
        # GT: two messages committed close together may announce out of order.
        await self.client.zadd(f"{self.prefix}:heads", {room: seq}, gt=True)

    async def head(self, *, room: str) -> int:
        score = await self.client.zscore(f"{self.prefix}:heads", room)
        return int(score or 0)

    # One hash per day, room -> drops, kept for OVER_CAPACITY_DAYS.
    def _over_key(self, day: str) -> str:
        return f"{self.prefix}:overcapacity:{day}"

    async def count_over_capacity(self, *, room: str, day: str) -> int:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(self._over_key(day), room, 1)
            pipe.expire(self._over_key(day), OVER_CAPACITY_DAYS * 86400)
            count, _ = await pipe.execute()
        return int(count)

    async def over_capacity(self, *, days: list[str]) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for day in days:
            entries = await self.client.hgetall(self._over_key(day))
            for room, count in entries.items():
                counts[(room.decode(), day)] = int(count)
        return counts


@dataclass
class _LocalRoom:
    members: dict[str, tuple[str, str, float]] = field(default_factory=dict)


class LocalRoomState:
    """One process, no Redis: the same rules over dictionaries."""

    def __init__(self) -> None:
        self.rooms: dict[str, _LocalRoom] = {}
        self.heads: dict[str, int] = {}
        self.rates: dict[str, tuple[int, int]] = {}
        self.drops: dict[tuple[str, str], int] = {}

    def _room(self, room: str) -> _LocalRoom:
        state = self.rooms.setdefault(room, _LocalRoom())
        now = time.time()
        for channel, (_, _, expires) in list(state.members.items()):
            if expires <= now:
                del state.members[channel]
        return state

    @staticmethod
    def _count(state: _LocalRoom) -> int:
        return len({sid for sid, _, _ in state.members.values()})

    async def join(
        self, *, room: str, channel: str, sid: str, name: str, refresh: bool = False
    ) -> JoinResult:
        state = self._room(room)
        others = [(s, n) for c, (s, n, _) in state.members.items() if c != channel]
        same = sum(1 for s, _ in others if s == sid)
        if not refresh and any(s != sid and n == name for s, n in others):
            return JoinResult(ok=False, other_tabs=same, count=self._count(state))
        expires = time.time() + settings.TALK_PRESENCE_TTL_SECONDS
        state.members[channel] = (sid, name, expires)
        return JoinResult(ok=True, other_tabs=same, count=self._count(state))

    async def leave(self, *, room: str, channel: str, sid: str) -> LeaveResult:
        state = self._room(room)
        state.members.pop(channel, None)
        same = sum(1 for s, _, _ in state.members.values() if s == sid)
        return LeaveResult(other_tabs=same, count=self._count(state))

    async def rename(self, *, room: str, sid: str, name: str) -> bool:
        state = self._room(room)
        if any(s != sid and n == name for s, n, _ in state.members.values()):
            return False
        for channel, (s, _, expires) in list(state.members.items()):
            if s == sid:
                state.members[channel] = (s, name, expires)
        return True

    async def hit(self, *, bucket: str, limit: int, window: int) -> bool:
        current = int(time.time() // window)
        seen_window, count = self.rates.get(bucket, (current, 0))
        count = count + 1 if seen_window == current else 1
        self.rates[bucket] = (current, count)
        return count <= limit

    async def set_head(self, *, room: str, seq: int) -> None:
        self.heads[room] = max(seq, self.heads.get(room, 0))

    async def head(self, *, room: str) -> int:
        return self.heads.get(room, 0)

    async def count_over_capacity(self, *, room: str, day: str) -> int:
        self.drops[(room, day)] = self.drops.get((room, day), 0) + 1
        return self.drops[(room, day)]

    async def over_capacity(self, *, days: list[str]) -> dict[tuple[str, str], int]:
        return {key: n for key, n in self.drops.items() if key[1] in days}


_local = LocalRoomState()


def get_redis() -> aioredis.Redis:
    """The process's shared async Redis client (one pool, with the page cache)."""
    return async_redis()


_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RedisRoomState] = (
    weakref.WeakKeyDictionary()
)


def get_state() -> RoomState:
    if not settings.REDIS_URL:
        return _local
    loop = asyncio.get_running_loop()
    state = _states.get(loop)
    if state is None:
        state = _states[loop] = RedisRoomState(get_redis())
    return state
