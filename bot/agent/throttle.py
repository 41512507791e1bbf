"""Sign-in throttling for staff: too many wrong passwords lock a name or an address a while.

Failures are counted per account name (5 within 15 minutes lock that name) and per client address
(20 within 15 minutes lock the address, against someone trying many names). A locked sign-in is
refused before the password is checked, so guessing goes no faster than the limits; a successful
sign-in clears the name's count. Every throttle of the web app process counts in one table, so
the agent console's and the trainer workbench's sign-in forms share the limits (a name gets 5
tries in all, not 5 at each). Counts live in the web app's memory: a restart forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Deque, Dict, Iterable, Optional, Tuple

from shop.text import inputs

WINDOW_SECONDS = 15 * 60
NAME_LIMIT = 5
ADDRESS_LIMIT = 20
MAX_TRACKED = 10_000

Key = Tuple[str, str]
Failures = Dict[Key, Deque[float]]

# The web app's one table of failures: every sign-in form counts here.
_PROCESS_FAILURES: Failures = {}
_lock = threading.Lock()


def keys_for(username: str, address: Optional[str]) -> Tuple[Key, ...]:
    """The counters one sign-in attempt touches: the account name and the client address.

    The name is counted in the form sign-in reads it (`shop.text.inputs.staff_username`), so a
    look-alike of a locked name (ａｇｅｎｔ, AGENT, a zero-width space inside) is locked too.
    """
    return (("name", inputs.staff_username(username)), ("address", address or "unknown"))


class SignInThrottle:
    """Recent sign-in failures per account name and per client address."""

    def __init__(self, window: float = WINDOW_SECONDS, failures: Optional[Failures] = None) -> None:
        """Counts in the process's table, or in the one given.

        Args:
            window: Seconds a failure counts for.
            failures: A table of its own (tests); the web app process's shared one when None.
        """
        self.window = window
        self._failures: Failures = _PROCESS_FAILURES if failures is None else failures

    @staticmethod
    def _limit(key: Key) -> int:
        return NAME_LIMIT if key[0] == "name" else ADDRESS_LIMIT

    def _recent(self, key: Key, now: float) -> Deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            self._failures.pop(key, None)
        return stamps

    def retry_after(self, keys: Iterable[Key], now: Optional[float] = None) -> int:
        """Seconds until a locked name or address may try again; 0 when none of them is locked."""
        now = time.time() if now is None else now
        waits = [0.0]
        with _lock:
            for key in keys:
                stamps = self._recent(key, now)
                if len(stamps) >= self._limit(key):
                    waits.append(stamps[-self._limit(key)] + self.window - now)
        return int(max(waits) + 0.999)

    def failed(self, keys: Iterable[Key], now: Optional[float] = None) -> None:
        """Counts a wrong name or password against each key."""
        now = time.time() if now is None else now
        with _lock:
            if len(self._failures) > MAX_TRACKED:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=ADDRESS_LIMIT)).append(now)

    def succeeded(self, username: str) -> None:
        """Forgets the account name's failures after a correct password."""
        with _lock:
            self._failures.pop(keys_for(username, None)[0], None)
