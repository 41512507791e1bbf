"""The inbox: every customer message of the tracker store, in the order a person should see it.

`sync` reads the tracker store's `events` table (read-only, through `bot.agent.trackers`) from
where it stopped last time and files each customer message into the workbench's index table with
the model's reading (intent, confidence, the margin to the second intent, entities) and a
priority:

0. the message went to the fallback (`nlu_fallback`);
1. an agent corrected its intent in the console (the correction is the suggested label);
2. the margin between the two likeliest intents is below `LOW_MARGIN`;
3. the rest.

`page` lists near-duplicates (equal after normalisation, `tokens.dedup_key`) as one entry with
their count, filtered and searched in SQL, so paging stays fast at 100,000 messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, func, insert, select, true, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine

from bot.agent import trackers
from bot.agent.conversations import CORRECTED_BY_KEY, CORRECTED_FROM_KEY
from bot.trainer import tokens
from bot.trainer.store import cursors, groups, messages
from shop.conversation import is_customer_text

FALLBACK_INTENT = "nlu_fallback"
LOW_MARGIN = 0.2
BATCH = 5000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
STATUSES = ("open", "labelled", "ignored")


def reading(event: Dict[str, Any]) -> Dict[str, Any]:
    """The model's reading of a user event: acted-on intent, best real intent, margin, entities.

    The fallback classifier puts `nlu_fallback` first; the intent the model guessed is the best
    of the others, and the margin is between the two best real intents.
    """
    parse = event.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name") or ""
    ranking = [
        r
        for r in parse.get("intent_ranking") or []
        if r.get("name") and r["name"] != FALLBACK_INTENT
    ]
    if not ranking and intent and intent != FALLBACK_INTENT:
        ranking = [parse.get("intent") or {}]
    first = ranking[0] if ranking else {}
    second = ranking[1] if len(ranking) > 1 else {}
    confidence = float(first.get("confidence") or 0.0)
    entities = [
        {k: e.get(k) for k in ("entity", "value", "start", "end")}
        for e in parse.get("entities") or []
        if isinstance(e, dict)
    ]
    return {
        "intent": str(intent),
        "guess": str(first.get("name") or ""),
        "confidence": confidence,
        "margin": confidence - float(second.get("confidence") or 0.0),
        "second": str(second.get("name") or ""),
        "entities": entities,
    }


def priority(intent: str, corrected: bool, margin: float) -> int:
    """0 fallback, 1 corrected by an agent, 2 low margin, 3 the rest."""
    if intent == FALLBACK_INTENT:
        return 0
    if corrected:
        return 1
    return 2 if margin < LOW_MARGIN else 3


def _row(event_id: int, sender: str, event: Dict[str, Any]) -> Dict[str, Any]:
    read = reading(event)
    text = str(event.get("text") or "")
    return {
        "event_id": event_id,
        "conversation_id": sender,
        "timestamp": float(event.get("timestamp") or 0.0),
        "channel": str(event.get("input_channel") or "")[:64],
        "text": text,
        "text_key": tokens.dedup_key(text),
        "intent": read["intent"],
        "guess": read["guess"],
        "confidence": read["confidence"],
        "margin": read["margin"],
        "second": read["second"],
        "entities": json.dumps(read["entities"], ensure_ascii=False),
        "priority": priority(read["intent"], False, read["margin"]),
    }


_UPSERT_GROUP = sql_text(
    "INSERT INTO inbox_groups (text_key, newest, count, urgency, least_margin, suggestion,"
    " suggested_by, status, label, text, guess, confidence, timestamp, channel)"
    " VALUES (:text_key, :event_id, 1, :priority, :margin, '', '', 'open', '', :text, :guess,"
    " :confidence, :timestamp, :channel)"
    " ON CONFLICT(text_key) DO UPDATE SET count = count + 1,"
    " urgency = MIN(urgency, excluded.urgency),"
    " least_margin = MIN(least_margin, excluded.least_margin),"
    " newest = MAX(newest, excluded.newest),"
    " text = CASE WHEN excluded.newest > newest THEN excluded.text ELSE text END,"
    " guess = CASE WHEN excluded.newest > newest THEN excluded.guess ELSE guess END,"
    " confidence = CASE WHEN excluded.newest > newest"
    " THEN excluded.confidence ELSE confidence END,"
    " timestamp = CASE WHEN excluded.newest > newest THEN excluded.timestamp ELSE timestamp END,"
    " channel = CASE WHEN excluded.newest > newest THEN excluded.channel ELSE channel END"
)


def sync(engine: Engine, store_url: str, most: int = 50_000) -> int:
    """Files the customer messages the tracker store gained since the last call.

    Each message joins its near-duplicate group (a message whose group the trainer already
    labelled or ignored joins it decided). A user event that an agent's correction added
    (metadata `assist_corrected_from`) is not a new message: it marks the latest earlier message
    with the same text in that conversation as corrected, with the agent's intent as the
    suggested label.

    Args:
        engine: The workbench database.
        store_url: SQLAlchemy URL of Rasa's tracker store.
        most: Events read at most in this call (the rest on the next one).

    Returns:
        How many events were read.
    """
    with engine.begin() as db:
        after = db.execute(select(cursors.c.last_event_id).where(cursors.c.store == store_url))
        last = after.scalar()
    start = int(last or 0)
    read = 0
    while read < most:
        rows = trackers.stored_events_after(
            store_url, start, min(BATCH, most - read), kinds=("user",)
        )
        if not rows:
            break
        new, corrections = [], []
        for event_id, sender, event in rows:
            if event is None or not is_customer_text(event):
                continue
            meta = event.get("metadata") or {}
            if CORRECTED_FROM_KEY in meta:
                corrections.append((event_id, sender, event, meta.get(CORRECTED_BY_KEY)))
            else:
                new.append(_row(event_id, sender, event))
        start, read = int(rows[-1][0]), read + len(rows)
        with engine.begin() as db:
            if new:
                db.execute(insert(messages).prefix_with("OR IGNORE"), new)
                db.execute(_UPSERT_GROUP, new)
            for event_id, sender, event, agent in corrections:
                _mark_corrected(db, event_id, sender, event, agent)
            _save_cursor(db, store_url, start, last is None)
            last = start
    return read


def _save_cursor(db: Any, store_url: str, position: int, first: bool) -> None:
    if first:
        db.execute(insert(cursors).values(store=store_url, last_event_id=position))
    else:
        db.execute(
            update(cursors).where(cursors.c.store == store_url).values(last_event_id=position)
        )


def _mark_corrected(db: Any, event_id: int, sender: str, event: Dict[str, Any], agent: Any) -> None:
    corrected = reading(event)["intent"]
    target = db.execute(
        select(messages.c.event_id, messages.c.intent, messages.c.text_key)
        .where(
            messages.c.conversation_id == sender,
            messages.c.text == str(event.get("text") or ""),
            messages.c.event_id < event_id,
        )
        .order_by(messages.c.event_id.desc())
        .limit(1)
    ).first()
    if target is None:
        return
    urgency = priority(target.intent, True, 0.0)
    agent_name = str(agent or "")[:64]
    db.execute(
        update(messages)
        .where(messages.c.event_id == target.event_id)
        .values(suggested=corrected, suggested_by=agent_name, priority=urgency)
    )
    db.execute(
        update(groups)
        .where(groups.c.text_key == target.text_key)
        .values(
            suggestion=corrected,
            suggested_by=agent_name,
            urgency=func.min(groups.c.urgency, urgency),
        )
    )


@dataclass
class Filters:
    """What the trainer narrows the inbox to (a group matches by its newest message)."""

    intent: str = ""
    since: Optional[float] = None
    until: Optional[float] = None
    channel: str = ""
    min_confidence: Optional[float] = None
    max_confidence: Optional[float] = None
    corrected: Optional[bool] = None
    status: str = "open"
    search: str = ""

    def clauses(self) -> List[Any]:
        """The SQL conditions on the groups table."""
        c = groups.c
        found = []
        if self.status in STATUSES:
            found.append(c.status == self.status)
        if self.intent:
            found.append(c.guess == self.intent)
        if self.since is not None:
            found.append(c.timestamp >= self.since)
        if self.until is not None:
            found.append(c.timestamp < self.until)
        if self.channel:
            found.append(c.channel == self.channel)
        if self.min_confidence is not None:
            found.append(c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            found.append(c.confidence <= self.max_confidence)
        if self.corrected is True:
            found.append(c.suggestion != "")
        elif self.corrected is False:
            found.append(c.suggestion == "")
        if self.search:
            needle = self.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found.append(c.text.like(f"%{needle}%", escape="\\"))
        return found


def page(
    engine: Engine, filters: Filters, offset: int = 0, size: int = PAGE_SIZE
) -> Tuple[List[Dict[str, Any]], int]:
    """One page of the inbox: near-duplicate groups in priority order, with the total.

    Each entry is the group's newest message with `count` (how many messages share its text
    after normalisation), `priority` (the group's most urgent) and `suggested` (an agent's
    correction, when any message of the group has one).

    Args:
        engine: The workbench database.
        filters: What to show.
        offset: Groups to skip.
        size: Groups to show (at most MAX_PAGE_SIZE).

    Returns:
        `(entries, number of groups)`.
    """
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    clauses = filters.clauses()
    where = and_(*clauses) if clauses else true()
    chosen = (
        select(groups)
        .where(where)
        .order_by(groups.c.urgency, groups.c.least_margin, groups.c.newest.desc())
        .offset(max(0, int(offset)))
        .limit(size)
        .subquery()
    )
    with engine.connect() as db:
        total = db.execute(select(func.count()).select_from(groups).where(where)).scalar() or 0
        listed = db.execute(
            select(
                messages,
                chosen.c["count"],
                chosen.c.urgency,
                chosen.c.suggestion,
                chosen.c.suggested_by.label("group_suggested_by"),
                chosen.c.status.label("group_status"),
                chosen.c.label,
            )
            .join(chosen, chosen.c.newest == messages.c.event_id)
            .order_by(chosen.c.urgency, chosen.c.least_margin, chosen.c.newest.desc())
        ).mappings()
        entries = [_entry(row) for row in listed]
    return entries, int(total)


def _entry(row: Any) -> Dict[str, Any]:
    return {
        "id": row["event_id"],
        "conversation_id": row["conversation_id"],
        "time": row["timestamp"],
        "channel": row["channel"],
        "text": row["text"],
        "intent": row["intent"],
        "guess": row["guess"],
        "confidence": round(row["confidence"], 4),
        "margin": round(row["margin"], 4),
        "second": row["second"],
        "entities": json.loads(row["entities"] or "[]"),
        "suggested": row["suggestion"] or "",
        "suggested_by": row["group_suggested_by"],
        "priority": row["urgency"],
        "count": row["count"],
        "status": row["group_status"],
        "label": row["label"],
    }


def message(engine: Engine, event_id: int) -> Optional[Dict[str, Any]]:
    """One indexed message with its group's decision, or None."""
    with engine.connect() as db:
        found = (
            db.execute(
                select(messages, groups.c.status, groups.c.label)
                .join(groups, groups.c.text_key == messages.c.text_key)
                .where(messages.c.event_id == int(event_id))
            )
            .mappings()
            .first()
        )
    if found is None:
        return None
    entry = dict(found)
    entry["entities"] = json.loads(entry["entities"] or "[]")
    return entry


def decide(engine: Engine, text_key: str, status: str, label: str = "") -> int:
    """Marks a near-duplicate group labelled or ignored; returns how many messages it holds."""
    with engine.begin() as db:
        db.execute(
            update(groups).where(groups.c.text_key == text_key).values(status=status, label=label)
        )
        found = db.execute(select(groups.c["count"]).where(groups.c.text_key == text_key))
        return int(found.scalar() or 0)


def labelled(engine: Engine, most: int = 5000) -> List[Dict[str, str]]:
    """The labelled inbox groups, for the evaluation: text and label."""
    with engine.connect() as db:
        rows = db.execute(
            select(groups.c.text, groups.c.label)
            .where(groups.c.status == "labelled", groups.c.label != "")
            .limit(most)
        )
        return [{"text": found, "intent": label} for found, label in rows]


def intents_seen(engine: Engine) -> List[str]:
    """The intents the model guessed, for the filter."""
    with engine.connect() as db:
        return [r[0] for r in db.execute(select(groups.c.guess).distinct()) if r[0]]


def channels(engine: Engine) -> List[str]:
    """The channels customers wrote from."""
    with engine.connect() as db:
        return [r[0] for r in db.execute(select(groups.c.channel).distinct()) if r[0]]
