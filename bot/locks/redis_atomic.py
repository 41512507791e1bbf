"""A Redis lock store whose tickets are issued, checked and released atomically.

Rasa 3.6's `RedisLockStore` keeps a conversation's ticket queue as one JSON string and changes it
by reading it, changing it in Python and writing it back, with no transaction: two replicas that
issue a ticket at the same moment both read the same queue, both hand out the same ticket number
and one write wins, so both believe they hold the conversation's lock; its `cleanup` can also
delete a ticket issued between its two calls. This store keeps the same ticket lock (first come,
first served, every ticket expiring after `lock_lifetime` seconds so a crashed holder blocks no
one for longer) in one Redis hash per conversation, and every change is one Lua script, which
Redis runs atomically:

- `issue_ticket`: drop expired tickets, take the next number (`HINCRBY`), store its expiry;
- `_acquire_lock`: the lock is this ticket's when it is the oldest live ticket; an expired ticket
  raises `LockError` as Rasa's does;
- `cleanup` / `finish_serving`: drop the ticket and delete the hash when no live ticket remains;
- `renew_ticket`: push a live ticket's expiry forward (an expired one stays expired).

Within `lock()` a ticket lives `ticket_lifetime` seconds (5 by default), and the replica that
holds it pushes its expiry forward every third of that while it waits for its turn and while it
processes the message, up to Rasa's `lock_lifetime` (60 s) in all. A replica that dies holding a
conversation stops renewing: its waiting customers go on within `ticket_lifetime` seconds
instead of a minute, while a replica that is alive but stuck still loses the lock after
`lock_lifetime`, as with Rasa's store.

Expiry is measured on the Redis server's clock (`TIME`), so replicas whose clocks differ agree.
A conversation's numbering starts at the server time in microseconds whenever its hash is new;
every number is issued by a script of its own and each takes more than a microsecond, so a
number handed out before the hash was deleted (to a waiter that has not yet noticed its ticket
expired) is never issued again to someone else, even when the hash is made again in the same
millisecond. Waiting replicas poll from 10 ms, doubling up to Rasa's
`wait_time_in_seconds`, instead of Rasa's fixed second.

Configured in `endpoints.scale-out.yml`; Rasa builds it with `endpoint_config=` (a custom lock
store type is a module path) and sees a `RedisLockStore`, so it allows several Sanic workers:

    lock_store:
      type: bot.locks.redis_atomic.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: 6379
      db: 1
      key_prefix: shop_assist

`password` may be given there; when it is not, `REDIS_PASSWORD` from the environment is used if
set. The keys are `<key_prefix>:tlock:<conversation id>` (hashes), apart from Rasa's own `lock:`
strings, so an old replica with Rasa's store cannot misread them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Dict, Optional, Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

PASSWORD_ENV = "REDIS_PASSWORD"
KEY_NAMESPACE = "tlock"
DEFAULT_KEY_PREFIX = "rasa"
FIRST_POLL_SECONDS = 0.01
LAST_FIELD = "last"
_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")

# Shared head of every script: `now` (ms, the server's clock) and `live(key, mine)`, which drops
# expired tickets and answers the oldest live ticket, how many are live and how many come before
# ticket `mine`.
_LIVE = """
if redis.replicate_commands then redis.replicate_commands() end
local function int(number) return string.format('%d', number) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local now_us = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function live(key, mine)
  local flat = redis.call('HGETALL', key)
  local first, count, ahead = nil, 0, 0
  for i = 1, #flat, 2 do
    local field = flat[i]
    if field ~= 'last' then
      if tonumber(flat[i + 1]) <= now then
        redis.call('HDEL', key, field)
      else
        local number = tonumber(field)
        count = count + 1
        if first == nil or number < first then first = number end
        if mine ~= nil and number < mine then ahead = ahead + 1 end
      end
    end
  end
  return first, count, ahead
end
"""

# KEYS[1] the hash; ARGV[1] lifetime (ms). Answers the new ticket's number.
_ISSUE = (
    _LIVE
    + """
live(KEYS[1], nil)
local lifetime = tonumber(ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'last') == 0 then
  redis.call('HSET', KEYS[1], 'last', int(now_us))
end
local number = redis.call('HINCRBY', KEYS[1], 'last', 1)
redis.call('HSET', KEYS[1], int(number), int(now + lifetime))
if redis.call('PTTL', KEYS[1]) < lifetime then
  redis.call('PEXPIRE', KEYS[1], lifetime)
end
return number
"""
)

# KEYS[1] the hash; ARGV[1] the ticket. Answers -1 if the ticket expired (or never existed),
# else how many live tickets come before it (0: the lock is this ticket's).
_AHEAD = (
    _LIVE
    + """
local mine = tonumber(ARGV[1])
local first, count, ahead = live(KEYS[1], mine)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
return ahead
"""
)

# KEYS[1] the hash; ARGV[1] the ticket (or '' for none). Drops the ticket, deletes the hash when
# no live ticket is left, answers how many are left.
_FINISH = (
    _LIVE
    + """
if ARGV[1] ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end
local first, count = live(KEYS[1], nil)
if count == 0 then redis.call('DEL', KEYS[1]) end
return count
"""
)

# KEYS[1] the hash. Answers {now ms, number, expiry ms, number, expiry ms, ...} of live tickets.
_SNAPSHOT = (
    _LIVE
    + """
live(KEYS[1], nil)
local answer = {now}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if flat[i] ~= 'last' then
    table.insert(answer, flat[i])
    table.insert(answer, flat[i + 1])
  end
end
return answer
"""
)

# KEYS[1] the hash; ARGV pairs of (number, ms left). Replaces the tickets with these, keeping the
# numbering ahead of every number given.
_REPLACE = """
if redis.replicate_commands then redis.replicate_commands() end
local function int(number) return string.format('%d', number) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or tonumber(clock[1]) * 1000000 + tonumber(clock[2]))
redis.call('DEL', KEYS[1])
local longest = 0
for i = 1, #ARGV, 2 do
  local number, left = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if left > 0 then
    redis.call('HSET', KEYS[1], int(number), int(now + left))
    if number > last then last = number end
    if left > longest then longest = left end
  end
end
if longest > 0 then
  redis.call('HSET', KEYS[1], 'last', int(last))
  redis.call('PEXPIRE', KEYS[1], longest)
end
return longest
"""

# KEYS[1] the hash; ARGV[1] the ticket; ARGV[2] its new lifetime (ms). Answers 1 when the live
# ticket now expires that much later, 0 when it had already expired (it is not revived).
_RENEW = (
    _LIVE
    + """
live(KEYS[1], nil)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local lifetime = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], int(now + lifetime))
if redis.call('PTTL', KEYS[1]) < lifetime then
  redis.call('PEXPIRE', KEYS[1], lifetime)
end
return 1
"""
)

DEFAULT_TICKET_LIFETIME = 5.0
RENEWALS_PER_LIFETIME = 3

_REDIS_SETTINGS = (
    "port",
    "db",
    "username",
    "password",
    "use_ssl",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_ca_certs",
    "key_prefix",
    "socket_timeout",
)


def _milliseconds(seconds: float) -> int:
    return max(1, int(round(float(seconds) * 1000)))


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's ticket lock in Redis, every ticket change one atomic Lua script.

    Args:
        endpoint_config: The `lock_store` section of the endpoints file, as Rasa passes it
            (`url` is the host; the other keys as below). Keys given here win over the keywords.
        host: The Redis server's host.
        port: Its port.
        db: The Redis database number.
        username: The Redis user, if any.
        password: The Redis password; `REDIS_PASSWORD` from the environment when not given.
        use_ssl: Whether to speak TLS to Redis.
        ssl_certfile: Client certificate for TLS.
        ssl_keyfile: Client key for TLS.
        ssl_ca_certs: CA certificates for TLS.
        key_prefix: Prefix of every key (letters, digits, `_`, `.`, `-`).
        socket_timeout: Seconds to wait for Redis before raising.
        ticket_lifetime: Seconds a ticket taken by `lock()` lives without being renewed: how
            long a dead replica's conversations wait.
    """

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 1,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        use_ssl: bool = False,
        ssl_certfile: Optional[Text] = None,
        ssl_keyfile: Optional[Text] = None,
        ssl_ca_certs: Optional[Text] = None,
        key_prefix: Optional[Text] = None,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
        ticket_lifetime: float = DEFAULT_TICKET_LIFETIME,
    ) -> None:
        settings: Dict[str, Any] = {
            "port": port,
            "db": db,
            "username": username,
            "password": password,
            "use_ssl": use_ssl,
            "ssl_certfile": ssl_certfile,
            "ssl_keyfile": ssl_keyfile,
            "ssl_ca_certs": ssl_ca_certs,
            "key_prefix": key_prefix,
            "socket_timeout": socket_timeout,
        }
        if endpoint_config is not None:
            host = endpoint_config.url or host
            for name, value in endpoint_config.kwargs.items():
                if name in _REDIS_SETTINGS:
                    settings[name] = value
                elif name == "ticket_lifetime":
                    ticket_lifetime = value
                else:
                    logger.warning("lock_store: unknown setting %r ignored", name)
        settings["password"] = settings["password"] or os.environ.get(PASSWORD_ENV) or None
        settings["socket_timeout"] = float(settings["socket_timeout"])
        super().__init__(host=host, **settings)
        if not settings["key_prefix"]:
            self._set_key_prefix(DEFAULT_KEY_PREFIX)
        self.ticket_lifetime = float(ticket_lifetime)
        if self.ticket_lifetime <= 0:
            raise ValueError(f"lock_store ticket_lifetime must be positive: {ticket_lifetime!r}")
        self._issue = self.red.register_script(_ISSUE)
        self._ahead = self.red.register_script(_AHEAD)
        self._finish = self.red.register_script(_FINISH)
        self._snapshot = self.red.register_script(_SNAPSHOT)
        self._replace = self.red.register_script(_REPLACE)
        self._renew = self.red.register_script(_RENEW)

    @classmethod
    def from_endpoint_config(cls, endpoint_config: EndpointConfig) -> "AtomicRedisLockStore":
        """The store an endpoints file's `lock_store` section describes."""
        return cls(endpoint_config=endpoint_config)

    def _set_key_prefix(self, key_prefix: Text) -> None:
        if not isinstance(key_prefix, str) or not _PREFIX_PATTERN.match(key_prefix):
            raise ValueError(
                f"lock_store key_prefix {key_prefix!r}: use letters, digits, '_', '.' or '-'"
            )
        self.key_prefix = f"{key_prefix}:{KEY_NAMESPACE}:"

    def _key(self, conversation_id: Text) -> str:
        return self.key_prefix + conversation_id

    # ---- tickets ----

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issues the next ticket for a conversation, valid for `lock_lifetime` seconds.

        Raises:
            LockError: when Redis cannot be reached or refuses.
        """
        try:
            key = self._key(conversation_id)
            return int(self._issue(keys=[key], args=[_milliseconds(lock_lifetime)]))
        except Exception as error:  # as Rasa's store: any failure to get a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def renew_ticket(self, conversation_id: Text, ticket: int, lifetime: float) -> bool:
        """Makes a live ticket expire `lifetime` seconds from now; False if it had expired."""
        key = self._key(conversation_id)
        return bool(int(self._renew(keys=[key], args=[ticket, _milliseconds(lifetime)])))

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Holds the conversation's lock for the block, the ticket renewed while it lasts.

        The ticket lives `ticket_lifetime` seconds (at most `lock_lifetime`) and is renewed
        every third of that, while waiting and while holding, until `lock_lifetime` seconds
        after it was issued.

        Raises:
            LockError: when Redis refuses, or the ticket expired before its turn came.
        """
        lifetime = min(self.ticket_lifetime, float(lock_lifetime))
        ticket = self.issue_ticket(conversation_id, lifetime)
        renewal = asyncio.ensure_future(
            self._keep_renewing(conversation_id, ticket, lifetime, float(lock_lifetime))
        )
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            renewal.cancel()
            self.cleanup(conversation_id, ticket)

    async def _keep_renewing(
        self, conversation_id: Text, ticket: int, lifetime: float, lock_lifetime: float
    ) -> None:
        ends = time.monotonic() + lock_lifetime
        while True:
            await asyncio.sleep(lifetime / RENEWALS_PER_LIFETIME)
            left = ends - time.monotonic()
            if left <= 0:
                return
            try:
                renewed = self.renew_ticket(conversation_id, ticket, min(lifetime, left))
            except Exception as error:  # Redis away for a moment: the next renewal may work
                logger.warning("ticket of %s not renewed: %s", conversation_id[:8], error)
                continue
            if not renewed:
                logger.warning("ticket of %s expired before renewal", conversation_id[:8])
                return

    def tickets_ahead(self, conversation_id: Text, ticket: int) -> Optional[int]:
        """How many live tickets come before `ticket` (0: the lock is its), None if it expired."""
        ahead = int(self._ahead(keys=[self._key(conversation_id)], args=[ticket]))
        return None if ahead < 0 else ahead

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        logger.debug("Acquiring lock for conversation '%s'.", conversation_id)
        pause = min(FIRST_POLL_SECONDS, wait_time_in_seconds)
        while True:
            ahead = self.tickets_ahead(conversation_id, ticket)
            if ahead is None:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if ahead == 0:
                logger.debug("Acquired lock for conversation '%s'.", conversation_id)
                return self.get_lock(conversation_id) or TicketLock(conversation_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, wait_time_in_seconds)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Drops a ticket; the conversation's hash goes when no live ticket is left."""
        self._finish(keys=[self._key(conversation_id)], args=[ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Drops a ticket and, in the same atomic step, the lock if no one is waiting."""
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: Text) -> None:
        """Drops the conversation's expired tickets."""
        self._finish(keys=[self._key(conversation_id)], args=[""])

    def is_someone_waiting(self, conversation_id: Text) -> bool:
        """Whether any live ticket is held or waiting for this conversation."""
        lock = self.get_lock(conversation_id)
        return bool(lock and lock.is_someone_waiting())

    # ---- the lock as Rasa's TicketLock (for callers that read it) ----

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """The conversation's live tickets as a `TicketLock` (expiries in this host's time)."""
        answer = self._snapshot(keys=[self._key(conversation_id)])
        server_now, pairs = int(answer[0]), answer[1:]
        if not pairs:
            return None
        offset = time.time() - server_now / 1000
        tickets = sorted(
            (int(pairs[i]), int(pairs[i + 1]) / 1000 + offset) for i in range(0, len(pairs), 2)
        )
        return TicketLock(conversation_id, deque(Ticket(n, at) for n, at in tickets))

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's tickets with the lock's, in one atomic step."""
        now = time.time()
        args = []
        for ticket in lock.tickets:
            args += [ticket.number, int((ticket.expires - now) * 1000)]
        self._replace(keys=[self._key(lock.conversation_id)], args=args)

    def delete_lock(self, conversation_id: Text) -> None:
        """Deletes the conversation's lock, whoever holds or waits for it."""
        deleted = self.red.delete(self._key(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))
