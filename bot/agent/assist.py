"""Suggestions for the agent console: fetched from the Rasa server, cached, sent, recorded.

The Rasa server drafts them (`bot.assist`); this module asks for them with a signed request, keeps
the latest set per conversation, message and authority (so every poll and every agent shows the
same ranked list), and builds the tracker events that record each decision:

- shown: `{"event": "agent", "data": {"assist": "shown", "for_message", "agent", "suggestions"}}`
- rejected: `{"event": "agent", "data": {"assist": "rejected", "for_message", "agent", "rank", ...}}`
- sent: the agent's `bot` event, metadata `sender` = `agent` and `assist` = `{"decision":
  "accepted"|"edited"|"written", "rank", "source", "intent", "confidence", "for_message",
  "edit_distance", "seconds_to_send"}`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from bot.agent import trackers
from bot.agent.accounts import StaffSession
from bot.agent.metrics import edit_distance
from bot.agent.wakeups import FALLBACK_SECONDS, ConversationSignals, wait_woken
from bot.assist.signing import SIGNATURE_HEADER, sign_body
from bot.rasa_client import RasaClient, RasaUnavailable
from shop.conversation import is_customer_text

CACHE_SIZE = 256


class SuggestionCache:
    """The latest suggestions per (conversation, customer message, authority), newest kept."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        """An empty cache holding at most `size` sets."""
        self.size = size
        self._sets: "OrderedDict[Tuple[str, str, int], Dict[str, Any]]" = OrderedDict()
        self._pending: Dict[Tuple[str, str, int], "asyncio.Future[Dict[str, Any]]"] = {}

    def get(
        self, conversation_id: str, message_id: str, authority: int
    ) -> Optional[Dict[str, Any]]:
        """A cached set, or None."""
        return self._sets.get((conversation_id, message_id, authority))

    def put(self, conversation_id: str, found: Dict[str, Any], authority: int) -> None:
        """Keeps a set under the message it answers."""
        key = (conversation_id, str(found.get("message_id")), authority)
        self._sets[key] = found
        self._sets.move_to_end(key)
        while len(self._sets) > self.size:
            self._sets.popitem(last=False)

    def forget(self, conversation_id: str, message_id: str) -> None:
        """Drops a message's sets once one of its suggestions was sent (for every authority)."""
        for key in [k for k in self._sets if k[:2] == (conversation_id, message_id)]:
            del self._sets[key]

    async def fetch_once(
        self, conversation_id: str, message_id: str, authority: int, fetch: Any
    ) -> Dict[str, Any]:
        """The cached set, or one fetch shared by everyone asking at the same time.

        The fetch runs as a task of its own, so an agent who leaves (their request cancelled)
        does not cancel it for the others waiting on it.
        """
        key = (conversation_id, message_id, authority)
        cached = self._sets.get(key)
        if cached is not None:
            return cached
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, fetch))
            self._pending[key] = task
        return await asyncio.shield(task)

    async def _fetch(self, key: Tuple[str, str, int], fetch: Any) -> Dict[str, Any]:
        try:
            found = await fetch()
            self.put(key[0], found, key[2])
            return found
        finally:
            self._pending.pop(key, None)


async def _post(
    rasa: RasaClient, path: str, body: Dict[str, Any], key: str, timeout: float
) -> Dict[str, Any]:
    """Posts a signed request to the assist webhook; a 409 answer means the message is stale."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(raw, key)}
    status, data = await rasa.post_webhook(
        f"assist/{path}", raw, headers, accept=(200, 409), timeout=timeout
    )
    if status == 409:
        return {"stale": True, **(data if isinstance(data, dict) else {})}
    if not isinstance(data, dict):
        raise RasaUnavailable(f"assist {path} answered no suggestions")
    return data


async def draft(
    rasa: RasaClient, key: str, conversation_id: str, authority_fen: int
) -> Dict[str, Any]:
    """Ranked suggestions for the latest customer message (`{"stale": True}` when there is none).

    Raises:
        RasaUnavailable: when the Rasa server does not answer with suggestions.
    """
    body = {"conversation_id": conversation_id, "authority_fen": authority_fen}
    return await _post(rasa, "suggestions", body, key, timeout=20.0)


async def perform(
    rasa: RasaClient,
    key: str,
    conversation_id: str,
    message_id: str,
    suggestion: Dict[str, Any],
    staff: StaffSession,
    events: List[Dict[str, Any]],
) -> Dict[str, Any]:
    """Has Rasa do what the suggestion stands for and deliver the agent's events.

    Raises:
        RasaUnavailable: when the Rasa server does not confirm it.
    """
    body = {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "authority_fen": staff.compensation_limit_fen,
        "choice": {
            "source": suggestion.get("source"),
            "intent": suggestion.get("intent"),
            "action": suggestion.get("action"),
            "confidence": suggestion.get("confidence"),
            "agent": staff.username,
        },
        "events": events,
    }
    return await _post(rasa, "perform", body, key, timeout=30.0)


def latest_state(store_url: str, conversation_id: str) -> Tuple[Optional[str], bool]:
    """The customer message waiting for an answer, and whether a person holds the conversation.

    Read cheaply from Rasa's tracker store: the latest pause, resume or session start, and the
    newest user and bot rows.
    A message the bot or an agent has answered already waits for nothing (a system notice such as
    "an agent joined" is no answer).

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        conversation_id: The conversation.

    Returns:
        `(message id or None, held)`.
    """
    control = trackers.latest_events(
        store_url, conversation_id, ("pause", "resume", "session_started"), 1
    )
    held = bool(control) and control[0][0] == "pause"
    for kind, raw in trackers.latest_events(store_url, conversation_id, ("user", "bot"), 60):
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if kind == "bot" and (event.get("metadata") or {}).get("sender") != "system":
            return None, held  # answered already (by the bot or an agent)
        if kind == "user" and is_customer_text(event):
            return event.get("message_id"), held
    return None, held


async def wait_for_message(
    store_url: str,
    conversation_id: str,
    after: Optional[str],
    timeout: float,
    signals: ConversationSignals,
) -> Tuple[Optional[str], bool]:
    """Waits for a held conversation's customer message other than `after`, or the time is up.

    The store is read again when the Rasa server pushes an event of the conversation
    (`bot.event_push`, through `signals`), and at the latest every `FALLBACK_SECONDS`.

    Returns:
        `latest_state` at that moment.
    """
    deadline = time.monotonic() + timeout
    with signals.watching(conversation_id) as woken:
        while True:
            woken.clear()  # before the read: a push during it is not lost
            message_id, held = await asyncio.to_thread(latest_state, store_url, conversation_id)
            if held and message_id and message_id != after:
                return message_id, held
            left = deadline - time.monotonic()
            if left <= 0:
                return message_id, held
            await wait_woken(woken, min(FALLBACK_SECONDS, left))


def shown_event(found: Dict[str, Any], staff: StaffSession) -> Dict[str, Any]:
    """The event recording that an agent was shown a set of suggestions."""
    return {
        "event": "agent",
        "text": None,
        "data": {
            "assist": "shown",
            "for_message": found.get("message_id"),
            "agent": staff.username,
            "suggestions": [
                {k: s.get(k) for k in ("rank", "source", "intent", "confidence", "text")}
                for s in found.get("suggestions") or []
            ],
        },
    }


def rejected_event(
    message_id: str, suggestion: Dict[str, Any], staff: StaffSession
) -> Dict[str, Any]:
    """The event recording that an agent rejected a suggestion."""
    return {
        "event": "agent",
        "text": None,
        "data": {
            "assist": "rejected",
            "for_message": message_id,
            "agent": staff.username,
            "rank": suggestion.get("rank"),
            "source": suggestion.get("source"),
            "intent": suggestion.get("intent"),
        },
    }


def decision(
    text: str,
    suggestion: Optional[Dict[str, Any]],
    customer_message: Optional[Dict[str, Any]],
    now: float,
) -> Dict[str, Any]:
    """The `assist` metadata of a message an agent sends."""
    asked_at = float((customer_message or {}).get("timestamp") or now)
    record: Dict[str, Any] = {
        "decision": "written",
        "rank": None,
        "source": None,
        "intent": None,
        "confidence": None,
        "for_message": (customer_message or {}).get("message_id"),
        "edit_distance": 0,
        "seconds_to_send": round(max(0.0, now - asked_at), 3),
    }
    if suggestion is not None:
        distance = edit_distance(str(suggestion.get("text") or ""), text)
        record.update(
            decision="accepted" if distance == 0 else "edited",
            rank=suggestion.get("rank"),
            source=suggestion.get("source"),
            intent=suggestion.get("intent"),
            confidence=suggestion.get("confidence"),
            edit_distance=distance,
        )
    return record


def card_events(suggestion: Dict[str, Any], staff: StaffSession) -> List[Dict[str, Any]]:
    """The suggestion's cards, sent by the agent with the text."""
    return [
        {
            "event": "bot",
            "text": None,
            "data": {"custom": card},
            "metadata": {
                "sender": "agent",
                "agent": staff.username,
                "agent_name": staff.display_name,
            },
        }
        for card in suggestion.get("cards") or []
    ]
