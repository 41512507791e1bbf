"""Agent-assist metrics from tracker events (pure functions, no I/O).

Every figure comes from the events the console records on Rasa's tracker:

- a customer's `user` event (its `message_id`, NLU intent and confidence);
- `agent` events with `data.assist` = `shown` (the ranked suggestions an agent saw for a message)
  or `rejected` (a suggestion the agent turned down);
- the agent's own `bot` events (metadata `sender` = `agent`), whose `assist` metadata says whether
  a suggestion was `accepted` as it was, `edited` first, or the reply was `written` by hand;
- `pause` / `resume` events, which mark when a person took a conversation over and handed it back.

`decision_rows` and `handoffs` read one conversation; `summarise` adds up any number of them.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from shop import settings as shop_settings
from shop.conversation import is_customer_text

OUTCOMES = ("accepted", "edited", "written", "rejected_only", "unanswered")
DECISIONS = ("accepted", "edited", "written")
TOP_RANKS = 3
CSV_COLUMNS = (
    "conversation_id",
    "message_id",
    "message_time",
    "intent",
    "confidence",
    "agent",
    "outcome",
    "rank",
    "source",
    "edit_distance",
    "seconds_to_send",
    "suggestions_shown",
    "rejections",
)
SUMMARY_COLUMNS = (
    "intent",
    "messages",
    "accepted",
    "edited",
    "written",
    "rejected_only",
    "unanswered",
    "top1_rate",
    "top3_rate",
    "edit_rate",
    "manual_rate",
    "handoffs",
    "answered_handoffs",
    "median_first_response_seconds",
)
HANDOFF_COLUMNS = (
    "paused_at",
    "agent",
    "mode",
    "intent",
    "waiting_since",
    "first_response_at",
    "first_response_seconds",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DecisionRow:
    """What happened to one customer message for which an agent was shown suggestions.

    Attributes:
        conversation_id: Rasa's sender id.
        message_id: The customer message's id.
        timestamp: When the customer sent it (seconds since the epoch).
        message_time: The same instant in ISO 8601, shop time (SHOP_TIMEZONE).
        intent: Rasa's intent for the message, if any.
        confidence: Its confidence, if any.
        agent: The agent who answered (or, when nobody did, who rejected or was shown suggestions).
        outcome: `accepted`, `edited`, `written`, `rejected_only` or `unanswered`, from the first
            message an agent sent for this customer message.
        rank: The rank of the suggestion that was accepted or edited.
        source: Where that suggestion came from (`bot`, `intent`, `response`).
        edit_distance: Characters changed before sending (0 when accepted as it was).
        seconds_to_send: From the customer's message to the agent's reply.
        suggestions_shown: Distinct suggestions the agent saw for the message.
        rejections: Distinct suggestions the agent rejected for the message.
    """

    conversation_id: str
    message_id: str
    timestamp: float
    message_time: str
    intent: Optional[str]
    confidence: Optional[float]
    agent: Optional[str]
    outcome: str
    rank: Optional[int]
    source: Optional[str]
    edit_distance: Optional[int]
    seconds_to_send: Optional[float]
    suggestions_shown: int
    rejections: int


@dataclass(frozen=True)
class Handoff:
    """One take-over of a conversation the bot was answering on its own.

    Attributes:
        paused_at: When the agent took the conversation over.
        agent: Who took it over.
        mode: `assist` or `human`, as taken over.
        waiting_since: When the customer started waiting for a person.
        first_response_at: When an agent first sent a message, if one did before hand-back.
        first_response_seconds: `first_response_at - waiting_since`, or None.
        intent: Rasa's intent for the customer message the wait began with, if any.
    """

    paused_at: float
    agent: Optional[str]
    mode: str
    waiting_since: float
    first_response_at: Optional[float]
    first_response_seconds: Optional[float]
    intent: Optional[str] = None


def edit_distance(a: str, b: str) -> int:
    """The Levenshtein distance between two texts, counted in characters.

    Args:
        a: The suggested text.
        b: The text that was sent.

    Returns:
        The least number of single-character insertions, deletions and substitutions that turn
        `a` into `b`.
    """
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (char_a != char_b),
                )
            )
        previous = current
    return previous[-1]


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _whole(value: Any) -> Optional[int]:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _stamp(event: Dict[str, Any]) -> float:
    return _number(event.get("timestamp")) or 0.0


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, shop_settings.load().tz).isoformat(timespec="seconds")


def _intent(event: Dict[str, Any]) -> Dict[str, Any]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent if isinstance(intent, dict) else {}


def _sender(event: Dict[str, Any]) -> Optional[str]:
    meta = event.get("metadata")
    return meta.get("sender") if isinstance(meta, dict) else None


def _is_agent_message(event: Dict[str, Any]) -> bool:
    return event.get("event") == "bot" and _sender(event) == "agent"


def _assist_data(event: Dict[str, Any], kind: str) -> Optional[Dict[str, Any]]:
    """The `data` of an `agent` event recording `kind` (`shown` / `rejected`), or None."""
    if event.get("event") != "agent":
        return None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("assist") != kind:
        return None
    return data if _text(data.get("for_message")) else None


def _sent_decision(event: Dict[str, Any]) -> Dict[str, Any]:
    """The `assist` metadata of an agent's message; older messages without it count as written."""
    meta = event.get("metadata") or {}
    assist = meta.get("assist") if isinstance(meta.get("assist"), dict) else {}
    decision = assist.get("decision") if assist.get("decision") in DECISIONS else "written"
    return {**assist, "decision": decision}


@dataclass
class _Seen:
    """What was recorded for one customer message while reading the events."""

    suggestions: Dict[tuple, Dict[str, Any]]
    rejected: set
    shown_to: Optional[str] = None
    rejected_by: Optional[str] = None
    sent: Optional[Dict[str, Any]] = None


def _key(*values: Any) -> tuple:
    """A set key from event values, whatever JSON they hold."""
    return tuple(v if isinstance(v, (str, int, float, type(None))) else repr(v) for v in values)


def _suggestion_key(suggestion: Dict[str, Any]) -> tuple:
    return _key(suggestion.get("source"), suggestion.get("intent"), suggestion.get("text"))


def _distance(decision: Dict[str, Any], seen: _Seen) -> Optional[int]:
    """The recorded edit distance, or one worked out from the suggestion that was edited."""
    if decision["decision"] == "written":
        return None
    recorded = _whole(decision.get("edit_distance"))
    if recorded is not None and recorded >= 0:
        return recorded
    if decision["decision"] == "accepted":
        return 0
    rank = _whole(decision.get("rank"))
    for suggestion in seen.suggestions.values():
        if _whole(suggestion.get("rank")) == rank and isinstance(suggestion.get("text"), str):
            return edit_distance(suggestion["text"], str(seen.sent.get("text") or ""))
    return None


def _row(conversation_id: str, message: Dict[str, Any], seen: _Seen) -> DecisionRow:
    intent = _intent(message)
    stamp = _stamp(message)
    confidence = _number(intent.get("confidence"))
    outcome, rank, source, distance, seconds, agent = "unanswered", None, None, None, None, None
    if seen.sent is not None:
        decision = _sent_decision(seen.sent)
        outcome = decision["decision"]
        if outcome != "written":
            rank, source = _whole(decision.get("rank")), _text(decision.get("source"))
        distance = _distance(decision, seen)
        seconds = _number(decision.get("seconds_to_send"))
        if seconds is None:
            seconds = max(0.0, _stamp(seen.sent) - stamp)
        agent = _text((seen.sent.get("metadata") or {}).get("agent"))
    elif seen.rejected:
        outcome = "rejected_only"
    return DecisionRow(
        conversation_id=conversation_id,
        message_id=str(message["message_id"]),
        timestamp=stamp,
        message_time=_iso(stamp),
        intent=_text(intent.get("name")),
        confidence=None if confidence is None else round(confidence, 3),
        agent=agent or seen.rejected_by or seen.shown_to,
        outcome=outcome,
        rank=rank,
        source=source,
        edit_distance=distance,
        seconds_to_send=None if seconds is None else round(seconds, 1),
        suggestions_shown=len(seen.suggestions),
        rejections=len(seen.rejected),
    )


def decision_rows(conversation_id: str, events: Sequence[Dict[str, Any]]) -> List[DecisionRow]:
    """One row per customer message for which an agent was shown at least one suggestion.

    Suggestions recorded more than once for the same message (the console showed them again)
    are counted once, and so are repeated rejections of the same suggestion. The outcome comes
    from the first message an agent sent for the customer message (`assist.for_message`); a
    message with rejections but no reply is `rejected_only`, one with neither `unanswered`.

    Args:
        conversation_id: Rasa's sender id.
        events: The conversation's tracker events, oldest first, as Rasa stores them.

    Returns:
        The rows in the order the customer sent the messages.
    """
    messages: Dict[str, Dict[str, Any]] = {}
    seen: Dict[str, _Seen] = {}

    def record(message_id: str) -> _Seen:
        return seen.setdefault(message_id, _Seen(suggestions={}, rejected=set()))

    for event in events:
        if not isinstance(event, dict):
            continue
        if is_customer_text(event):
            message_id = _text(event.get("message_id"))
            if message_id:
                messages.setdefault(message_id, event)
        elif shown := _assist_data(event, "shown"):
            entry = record(shown["for_message"])
            entry.shown_to = entry.shown_to or _text(shown.get("agent"))
            for suggestion in shown.get("suggestions") or []:
                if isinstance(suggestion, dict):
                    entry.suggestions.setdefault(_suggestion_key(suggestion), suggestion)
        elif rejected := _assist_data(event, "rejected"):
            entry = record(rejected["for_message"])
            entry.rejected.add(
                _key(_whole(rejected.get("rank")), rejected.get("source"), rejected.get("intent"))
            )
            entry.rejected_by = _text(rejected.get("agent")) or entry.rejected_by
        elif _is_agent_message(event):
            message_id = _text(_sent_decision(event).get("for_message"))
            if message_id and record(message_id).sent is None:
                record(message_id).sent = event
    return [
        _row(conversation_id, message, seen[message_id])
        for message_id, message in messages.items()
        if message_id in seen and seen[message_id].suggestions
    ]


def _is_reply(event: Dict[str, Any]) -> bool:
    """A message from the bot or an agent (a system notice about the handover is not a reply)."""
    return event.get("event") == "bot" and _sender(event) != "system"


def _waiting_since(
    events: Sequence[Dict[str, Any]], pause_index: int
) -> Tuple[float, Optional[str]]:
    """When the customer began waiting, and the intent of the message the wait began with.

    The wait begins with the earliest customer message after the last reply before the pause,
    else with the pause itself (no intent then).
    """
    waiting = None
    for event in reversed(events[:pause_index]):
        if _is_reply(event):
            break
        if is_customer_text(event):
            waiting = event
    if waiting is None:
        return _stamp(events[pause_index]), None
    return _stamp(waiting), _text(_intent(waiting).get("name"))


def _first_response(events: Sequence[Dict[str, Any]], pause_index: int) -> Optional[float]:
    """When an agent first sent a message after the pause, before the conversation was handed back."""
    for event in events[pause_index + 1 :]:
        if event.get("event") in ("resume", "session_started"):
            return None
        if _is_agent_message(event):
            return _stamp(event)
    return None


def handoffs(events: Sequence[Dict[str, Any]]) -> List[Handoff]:
    """The take-overs in one conversation, with how long the customer waited for a person.

    A handoff is a `pause` while the bot was answering on its own: no pause since the start or
    the latest `resume`. A `session_started` also counts as the bot answering again (Rasa clears a
    paused conversation when a new session starts). A pause while already paused (a change between
    `assist` and `human`, another agent taking over) is not a new handoff.

    Args:
        events: The conversation's tracker events, oldest first, as Rasa stores them.

    Returns:
        The handoffs in order; `first_response_seconds` is None when no agent replied before the
        conversation was handed back.
    """
    events = [event for event in events if isinstance(event, dict)]
    found: List[Handoff] = []
    paused = False
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind in ("resume", "session_started"):
            paused = False
        elif kind == "pause":
            if paused:
                continue
            paused = True
            meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
            waiting, intent = _waiting_since(events, index)
            answered = _first_response(events, index)
            found.append(
                Handoff(
                    paused_at=_stamp(event),
                    agent=_text(meta.get("agent")),
                    mode=meta.get("mode") if meta.get("mode") in ("assist", "human") else "human",
                    waiting_since=waiting,
                    first_response_at=answered,
                    first_response_seconds=None
                    if answered is None
                    else round(max(0.0, answered - waiting), 1),
                    intent=intent,
                )
            )
    return found


def _ratio(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def _handoff_figures(found: Sequence[Handoff]) -> Dict[str, Any]:
    waits = [h.first_response_seconds for h in found if h.first_response_seconds is not None]
    return {
        "handoffs": len(found),
        "answered_handoffs": len(waits),
        "median_first_response_seconds": round(statistics.median(waits), 1) if waits else None,
    }


def _rates(rows: Sequence[DecisionRow]) -> Dict[str, Any]:
    counts = {outcome: sum(1 for row in rows if row.outcome == outcome) for outcome in OUTCOMES}
    top1 = sum(1 for row in rows if row.outcome == "accepted" and row.rank == 1)
    top3 = sum(
        1
        for row in rows
        if row.outcome in ("accepted", "edited") and row.rank is not None and row.rank <= TOP_RANKS
    )
    suggested = counts["accepted"] + counts["edited"]
    replied = suggested + counts["written"]
    return {
        "messages": len(rows),
        **counts,
        "replied": replied,
        "rejections": sum(row.rejections for row in rows),
        "top1_rate": _ratio(top1, len(rows)),
        "top3_rate": _ratio(top3, len(rows)),
        "edit_rate": _ratio(counts["edited"], suggested),
        "manual_rate": _ratio(counts["written"], replied),
    }


def summarise(rows: Iterable[DecisionRow], found_handoffs: Iterable[Handoff]) -> Dict[str, Any]:
    """The headline figures, overall and per customer intent.

    Rates are fractions (0.25 = 25 %), None when there is nothing to divide by:

    - `top1_rate`: the first suggestion sent unedited / messages with suggestions;
    - `top3_rate`: a suggestion ranked 1-3 sent, edited or not / messages with suggestions;
    - `edit_rate`: suggestions edited before sending / suggestions sent;
    - `manual_rate`: replies written by hand / replies sent.

    Args:
        rows: Decision rows of any number of conversations.
        found_handoffs: Handoffs of the same conversations.

    Returns:
        `messages`, a count per outcome, `replied`, `rejections`, the four rates, `handoffs`,
        `answered_handoffs`, `median_first_response_seconds` and `by_intent`: the same figures
        per intent (a handoff counts for the intent of the message the wait began with;
        `intent` None when Rasa gave none), most messages first, then most handoffs.
    """
    rows = list(rows)
    found_handoffs = list(found_handoffs)
    groups: Dict[Optional[str], List[DecisionRow]] = {}
    for row in rows:
        groups.setdefault(row.intent, []).append(row)
    handed: Dict[Optional[str], List[Handoff]] = {}
    for handoff in found_handoffs:
        handed.setdefault(handoff.intent, []).append(handoff)
    intents = sorted(
        set(groups) | set(handed),
        key=lambda i: (-len(groups.get(i, [])), -len(handed.get(i, [])), i or ""),
    )
    by_intent = [
        {
            "intent": intent,
            **_rates(groups.get(intent, [])),
            **_handoff_figures(handed.get(intent, [])),
        }
        for intent in intents
    ]
    return {**_rates(rows), **_handoff_figures(found_handoffs), "by_intent": by_intent}


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(rows: Iterable[DecisionRow]) -> str:
    """The rows as CSV with a header row, safe to open in a spreadsheet.

    Text cells starting with `=`, `+`, `-`, `@` (or a tab / carriage return) get a leading `'`,
    so a crafted intent, agent or conversation id cannot run as a formula. Empty values are empty
    cells.

    Args:
        rows: Decision rows.

    Returns:
        The CSV text (CRLF line ends); add a UTF-8 BOM when serving it for Excel.
    """
    return _table(CSV_COLUMNS, [[getattr(row, c) for c in CSV_COLUMNS] for row in rows])


def _table(columns: Sequence[str], records: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(value) for value in record])
    return out.getvalue()


def summary_csv(summary: Dict[str, Any]) -> str:
    """The summary as CSV: one row for all messages (`intent` = `*`), then one per intent.

    Args:
        summary: What `summarise` returned.

    Returns:
        The CSV text with a header row of SUMMARY_COLUMNS; rates as fractions, empty when None.
    """
    groups = [{**summary, "intent": "*"}] + list(summary["by_intent"])
    return _table(
        SUMMARY_COLUMNS,
        [["" if g.get(c) is None else g.get(c) for c in SUMMARY_COLUMNS] for g in groups],
    )


def handoffs_csv(found: Iterable[Handoff]) -> str:
    """One CSV row per handoff (times in ISO 8601, shop time (SHOP_TIMEZONE)), oldest first."""
    records = [
        [
            _iso(h.paused_at),
            h.agent,
            h.mode,
            h.intent,
            _iso(h.waiting_since),
            None if h.first_response_at is None else _iso(h.first_response_at),
            h.first_response_seconds,
        ]
        for h in sorted(found, key=lambda h: h.paused_at)
    ]
    return _table(HANDOFF_COLUMNS, records)


def latest(rows: Iterable[DecisionRow], limit: int = 200) -> List[DecisionRow]:
    """The newest rows first, at most `limit` of them (what the metrics page lists)."""
    return sorted(rows, key=lambda row: row.timestamp, reverse=True)[:limit]
