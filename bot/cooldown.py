"""Remembering for a few seconds that an outside part failed, so the next calls do not wait.

The Rasa server calls the action server and the web app's `/nlg` several times for one customer
message. When one of them hangs, only the first call should wait for its timeout: the calls after
it, until the cool-down ends, answer from the fallback at once, so the whole message is still
answered within a few seconds. The first call after the cool-down tries the part again.
"""

from __future__ import annotations

import time
from typing import Callable


class Cooldown:
    """A part's recent failure: calls are skipped until `seconds` after the last one."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Starts with the part counted as working.

        Args:
            seconds: How long after a failure calls are skipped.
            clock: Monotonic seconds (tests pass their own).
        """
        self.seconds = seconds
        self._clock = clock
        self._failed_at: float | None = None

    def allows(self) -> bool:
        """Whether the part may be called now (no failure within the cool-down)."""
        return self._failed_at is None or self._clock() - self._failed_at >= self.seconds

    def failed(self) -> None:
        """Notes a failure now: calls are skipped for the next `seconds`."""
        self._failed_at = self._clock()

    def succeeded(self) -> None:
        """Notes an answer: the part counts as working again."""
        self._failed_at = None
