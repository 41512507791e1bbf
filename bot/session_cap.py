"""Conversation sessions that end after a number of events, so every reply stays fast.

Rasa loads, replays and featurises every event of a conversation's current session for each
customer message (the SQL tracker store already loads the current session only): a session of
3,800 events takes about 0.8 s per reply instead of 0.05 s. Rasa ends a session only after
`session_expiration_time` minutes of silence (`domain.yml`); with `install`, a session also ends
when it has `max_events` events (SHOP_MAX_SESSION_EVENTS, 400 by default). Rasa then starts the
next one exactly as after the silence: `action_session_start`, slots carried over as the domain's
`session_config` says. A conversation an agent has taken over (paused) or in the middle of a
form is left alone until it is back with the bot outside a form. The whole history stays in the
tracker store; the agent console reads it across sessions.

The Rasa server's launcher (`bot.rasa_server`) installs it before Rasa starts.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any, Callable

from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

ENV = "SHOP_MAX_SESSION_EVENTS"
DEFAULT_MAX_EVENTS = 400

Expiry = Callable[[Any, DialogueStateTracker], bool]


def max_session_events() -> int:
    """SHOP_MAX_SESSION_EVENTS, else 400."""
    return int(os.environ.get(ENV) or DEFAULT_MAX_EVENTS)


def too_long(tracker: DialogueStateTracker, max_events: int) -> bool:
    """Whether the session should end for its length: long, with the bot, outside a form."""
    return (
        len(tracker.events) >= max_events
        and not tracker.is_paused()
        and tracker.active_loop_name is None
    )


def capped(expired: Expiry, max_events: int) -> Expiry:
    """Rasa's expiry check (`MessageProcessor._has_session_expired`) that also ends long sessions.

    Args:
        expired: Rasa's check (silence longer than the session expiration time).
        max_events: Events after which a session ends.

    Returns:
        The check to use instead.
    """

    @functools.wraps(expired)
    def has_session_expired(processor: Any, tracker: DialogueStateTracker) -> bool:
        if expired(processor, tracker):
            return True
        if not processor.domain.session_config.are_sessions_enabled():
            return False
        if too_long(tracker, max_events):
            logger.info(
                "conversation %s: a new session after %d events",
                tracker.sender_id[:8],
                len(tracker.events),
            )
            return True
        return False

    has_session_expired.capped = True  # type: ignore[attr-defined]
    return has_session_expired


def install(max_events: int | None = None) -> None:
    """Makes Rasa's message processor end sessions of `max_events` events (once)."""
    current = MessageProcessor._has_session_expired
    if getattr(current, "capped", False):
        return
    limit = max_session_events() if max_events is None else max_events
    MessageProcessor._has_session_expired = capped(current, limit)  # type: ignore[method-assign]
