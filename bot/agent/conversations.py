"""What the console reads from a conversation's tracker events (pure functions, no I/O).

The tracker is the only record: the mode (from the latest `pause` / `resume` event and the
pause's metadata), the reasons a conversation needs a person, the transcript with who said what,
and Rasa's NLU reading of every customer message all come from the events as Rasa stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from bot.agent.anger import is_angry
from shop.conversation import intent_name, is_command, is_customer_text, is_external
from shop.signing import signed_in_customer

MODES = ("auto", "assist", "human")
# Why a conversation needs a person, most urgent first (labels live in the console's script).
REASONS = (
    "system_error",
    "compensation_above_limit",
    "angry_customer",
    "complaint",
    "customer_request",
    "repeated_fallback",
)
SUPERVISOR_REASON = "compensation_above_limit"
FALLBACK_INTENT = "nlu_fallback"
REPEATED_FALLBACKS = 2
HUMAN_INTENT = "request_human"
COMPLAINT_INTENT = "complain"
ANGRY_REASON = "angry_customer"
# Metadata of the user event that records an agent's correction of a message's intent.
CORRECTED_FROM_KEY = "assist_corrected_from"
CORRECTED_BY_KEY = "assist_agent"
MAX_TRANSCRIPT = 300


@dataclass
class Summary:
    """One conversation as the queue and the list of active conversations show it."""

    conversation_id: str
    mode: str = "auto"
    agent: Optional[str] = None
    agent_role: Optional[str] = None
    reasons: List[str] = field(default_factory=list)
    waiting_since: Optional[float] = None
    last_activity: float = 0.0
    last_customer_text: str = ""
    customer_id: Optional[int] = None
    customer_messages: int = 0

    @property
    def needs_human(self) -> bool:
        """In the queue: a reason to hand over, and no person has taken the conversation."""
        return bool(self.reasons) and self.mode == "auto"

    @property
    def queue(self) -> str:
        """Whose queue it waits in: `supervisor` for what only a supervisor may grant."""
        return "supervisor" if SUPERVISOR_REASON in self.reasons else "agents"

    @property
    def waits_for_supervisor(self) -> bool:
        """Only a supervisor may settle it, and no supervisor holds it yet.

        A frontline agent may hold such a conversation (the reason came up while they did), but
        it still waits in the supervisors' queue until a supervisor takes it over.
        """
        if SUPERVISOR_REASON not in self.reasons:
            return False
        return self.mode == "auto" or self.agent_role != "supervisor"

    def as_dict(self, now: float) -> Dict[str, Any]:
        """The summary for the console, with the waiting time in whole seconds."""
        waiting = None if self.waiting_since is None else max(0, int(now - self.waiting_since))
        return {
            "conversation_id": self.conversation_id,
            "mode": self.mode,
            "agent": self.agent,
            "agent_role": self.agent_role,
            "reasons": list(self.reasons),
            "queue": self.queue,
            "waiting_seconds": waiting,
            "last_activity": self.last_activity,
            "last_customer_text": self.last_customer_text,
            "customer_id": self.customer_id,
        }


def current_session(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events since the latest `session_started` (all of them when there is none)."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index:]
    return events


def mode_of(events: Iterable[Dict[str, Any]]) -> Dict[str, Optional[str]]:
    """The conversation's mode and the agent holding it, from the latest pause or resume event.

    Args:
        events: The tracker's events.

    Returns:
        `{"mode": "auto"|"assist"|"human", "agent": username or None, "role": the holder's
        staff role or None}`.
    """
    state: Dict[str, Optional[str]] = {"mode": "auto", "agent": None, "role": None}
    for event in events:
        kind = event.get("event")
        if kind in ("resume", "session_started"):  # a new session is never paused in Rasa
            state = {"mode": "auto", "agent": None, "role": None}
        elif kind == "pause":
            meta = event.get("metadata") or {}
            mode = meta.get("mode") if meta.get("mode") in ("assist", "human") else "human"
            agent, role = meta.get("agent"), meta.get("role")
            state = {
                "mode": mode,
                "agent": agent if isinstance(agent, str) else None,
                "role": role if isinstance(role, str) else None,
            }
    return state


def reasons_of(events: List[Dict[str, Any]]) -> List[str]:
    """Why the conversation needs a person now (current session, since the last hand-back).

    Args:
        events: All its tracker events, oldest first.

    Returns:
        The reasons, most urgent first.
    """
    found = _reasons_since_handback(current_session(events))
    return [reason for reason in REASONS if reason in found]


def _is_correction(event: Dict[str, Any]) -> bool:
    """A user event an agent added to correct the intent of a message already counted."""
    return CORRECTED_FROM_KEY in (event.get("metadata") or {})


def _corrects_a_command(event: Dict[str, Any]) -> bool:
    """A correction of a widget command: its text named the intent it was first read as."""
    if not _is_correction(event):
        return False
    old = (event.get("metadata") or {}).get(CORRECTED_FROM_KEY)
    return is_command({"text": event.get("text"), "parse_data": {"intent": {"name": old}}})


def _reasons_since_handback(events: List[Dict[str, Any]]) -> Dict[str, float]:
    """Each reason with the time it first appeared since the bot last took the conversation back.

    `angry_customer` comes from the customer's own words (see `bot.agent.anger`), whatever
    intent Rasa read; the other reasons from intents and the `handoff_reason` slot.
    """
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "resume":
            start = index + 1
    found: Dict[str, float] = {}
    fallbacks = 0

    def note(reason: str, event: Dict[str, Any]) -> None:
        found.setdefault(reason, float(event.get("timestamp") or 0.0))

    for event in events[start:]:
        kind = event.get("event")
        if kind == "user":
            intent = intent_name(event)
            if is_customer_text(event) and is_angry(str(event.get("text"))):
                note(ANGRY_REASON, event)
            if intent == HUMAN_INTENT:
                note("customer_request", event)
            elif intent == COMPLAINT_INTENT:
                note("complaint", event)
            elif intent == FALLBACK_INTENT:
                fallbacks += 1
                if fallbacks >= REPEATED_FALLBACKS:
                    note("repeated_fallback", event)
        elif kind == "slot" and event.get("name") == "handoff_reason":
            value = event.get("value")
            if isinstance(value, str) and value in REASONS:
                note(value, event)
    return found


def summarise(conversation_id: str, events: List[Dict[str, Any]], key: str) -> Summary:
    """Summarise a conversation for the queue and the list of active conversations.

    Args:
        conversation_id: Rasa's sender id.
        events: All its tracker events, oldest first.
        key: The shared signing key (to tell signed-in customers).

    Returns:
        The summary; `reasons` ordered most urgent first.
    """
    session = current_session(events)
    state = mode_of(events)
    found = _reasons_since_handback(session)
    reasons = [reason for reason in REASONS if reason in found]
    texts = [
        str(e.get("text") or "") for e in session if is_customer_text(e) and not _is_correction(e)
    ]
    stamps = [float(e.get("timestamp") or 0.0) for e in events]
    return Summary(
        conversation_id=conversation_id,
        mode=state["mode"] or "auto",
        agent=state["agent"],
        agent_role=state["role"],
        reasons=reasons,
        waiting_since=min(found.values()) if found else None,
        last_activity=max(stamps) if stamps else 0.0,
        last_customer_text=texts[-1][:80] if texts else "",
        customer_id=signed_in_customer(events, key, conversation_id),
        customer_messages=len(texts),
    )


def _nlu(event: Dict[str, Any]) -> Dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    entities = []
    for entity in parse.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity"):
            found = {"entity": str(entity["entity"]), "value": str(entity.get("value"))}
            if found not in entities:  # the regex and DIET may both find the same one
                entities.append(found)
    confidence = intent.get("confidence")
    return {
        "intent": str(intent.get("name") or ""),
        "confidence": round(float(confidence), 3) if isinstance(confidence, (int, float)) else None,
        "entities": entities,
    }


def _correction(event: Dict[str, Any], reverted: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """Who corrected the reverted customer message, when this user event is that correction."""
    meta = event.get("metadata") or {}
    if CORRECTED_FROM_KEY not in meta or str(event.get("text") or "") != reverted["text"]:
        return None
    old, agent = meta.get(CORRECTED_FROM_KEY), meta.get(CORRECTED_BY_KEY)
    return {
        "corrected_from": old if isinstance(old, str) else reverted["nlu"]["intent"],
        "corrected_by": agent if isinstance(agent, str) else "",
    }


def transcript(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The conversation as the console shows it: customer, bot, agent and notices, each marked.

    Customer messages carry Rasa's NLU reading (intent, confidence, entities); commands the widget
    sends for the customer (`/greet`, see `shop.conversation.is_command`) are left out, but text
    a customer typed is shown whatever it starts with. Only the last MAX_TRANSCRIPT entries are kept.

    An agent who corrects the intent of a customer message leaves a `rewind` event (Rasa's
    `UserUtteranceReverted`) followed by a `user` event with the same text, the corrected intent
    and metadata `{"assist_corrected_from": old intent, "assist_agent": username}`. The message
    is then shown once, where and when the customer wrote it: the correcting event replaces the
    earlier entry, and its `nlu` gains `"corrected_from"` and `"corrected_by"`. A rewind that the
    next user event does not correct in this way changes nothing in the transcript.

    Args:
        events: The tracker's events, oldest first.

    Returns:
        Entries `{"role": "customer"|"bot"|"agent"|"system"|"trigger", "text", "time", ...}`;
        `trigger` is a proactive notice the shop started (its external intent as text).
    """
    entries: List[Dict[str, Any]] = []
    latest_customer: Optional[int] = None  # the entry of the latest user event, if it made one
    reverted: Optional[int] = None  # the entry a rewind took back, until the next user event
    for event in events:
        kind = event.get("event")
        stamp = float(event.get("timestamp") or 0.0)
        if kind == "rewind":
            reverted = latest_customer
        elif kind == "user":
            text = str(event.get("text") or "")
            correction = None if reverted is None else _correction(event, entries[reverted])
            if reverted is not None and correction is not None:
                earlier = entries[reverted]
                entries[reverted] = {**earlier, "nlu": {**_nlu(event), **correction}}
                latest_customer, reverted = reverted, None
                continue
            reverted = latest_customer = None
            if _corrects_a_command(event):  # a command was never shown: nothing to replace
                continue
            if is_external(event):
                entries.append({"role": "trigger", "text": intent_name(event), "time": stamp})
            elif is_customer_text(event):
                entries.append(
                    {"role": "customer", "text": text, "time": stamp, "nlu": _nlu(event)}
                )
                latest_customer = len(entries) - 1
        elif kind == "bot":
            meta = event.get("metadata") or {}
            data = event.get("data") or {}
            text = str(event.get("text") or "")
            if not text and data.get("custom"):
                card = data["custom"] if isinstance(data["custom"], dict) else {}
                text = f"[{card.get('card') or 'custom'}]"
            if not text:
                continue
            role = meta.get("sender") if meta.get("sender") in ("agent", "system") else "bot"
            entry = {"role": role, "text": text, "time": stamp}
            if role != "bot" and isinstance(meta.get("agent"), str):
                entry["agent"] = meta["agent"]
            entries.append(entry)
    return entries[-MAX_TRANSCRIPT:]
