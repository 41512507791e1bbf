"""Sending what is due, once: claim in ``notice_log``, deliver, mark sent.

A notice is claimed (a ``pending`` row; the unique (kind, subject_key) index makes a second
claim fail) before it is delivered and marked ``sent`` after, so a restart or a second runner
never sends it again. ``created_at`` is the moment of the latest claim.

A failed delivery may still have reached the customer (Rasa goes on after the 30 s timeout),
and a ``pending`` row whose runner died may have been delivered too. So such a row is taken up
again only :data:`RECLAIM_AFTER` after its claim, and first the conversation's tracker is asked
whether the notice (tagged with its id) is there: if so it is marked ``sent`` without sending
it again; if not it is delivered again, at most :data:`MAX_ATTEMPTS` times in all.

Nothing is sent in quiet hours (:mod:`shop.policy.quiet_hours`), checked before every delivery, nor a
notice past its ``not_after`` (an installation reminder once the visit's slot has begun). A notice
for a conversation an agent holds (assist or human mode) waits, unclaimed, for a run after the
agent hands it back: Rasa would record it there without saying it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.notices.delivery import Deliverer, DeliveryError
from bot.notices.due import Notice, find_due
from shop.db import session_scope
from shop.db.models import NoticeLog
from shop.policy import quiet_hours
from shop.signing import conversation_id_for

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
DEFAULT_LIMIT = 20
# Longer than a delivery can take (30 s timeout, then Rasa finishing what it started), shorter
# than the periodic job's interval, so the next run takes failed and abandoned claims up again.
RECLAIM_AFTER = timedelta(minutes=3)


@dataclass
class Report:
    """What one run did."""

    quiet_until: Optional[datetime] = None
    due: int = 0
    sent: List[Notice] = field(default_factory=list)
    failed: List[Notice] = field(default_factory=list)
    skipped: int = 0
    confirmed: List[Notice] = field(default_factory=list)  # found delivered, not sent again
    held: List[Notice] = field(default_factory=list)  # an agent holds the conversation: waits

    def summary(self) -> str:
        """One line for logs and the command line."""
        if self.quiet_until is not None and not (self.sent or self.failed or self.confirmed):
            return f"quiet hours: nothing sent, waiting until {self.quiet_until.isoformat()}"
        line = (
            f"{self.due} due, {len(self.sent)} sent, {len(self.failed)} failed, "
            f"{len(self.confirmed)} found already delivered, "
            f"{len(self.held)} waiting for an agent to hand the conversation back, "
            f"{self.skipped} already handled or over the limit"
        )
        if self.quiet_until is not None:
            line += f"; quiet hours began, the rest waits until {self.quiet_until.isoformat()}"
        return line


@dataclass(frozen=True)
class _Claim:
    """A notice_log row as read: what a claim or settlement must still find to change it."""

    status: str
    attempts: int
    claimed_at: datetime


def _read(engine: Optional[Engine], notice: Notice) -> Optional[_Claim]:
    with session_scope(engine) as session:
        row = session.execute(
            select(NoticeLog).where(
                NoticeLog.kind == notice.kind, NoticeLog.subject_key == notice.subject_key
            )
        ).scalar_one_or_none()
        return None if row is None else _Claim(row.status, row.attempts, row.created_at)


def _to_take_up(previous: _Claim, moment: datetime) -> bool:
    """Whether a failed or abandoned claim is old enough to be looked at again."""
    if previous.status == "sent" or moment - previous.claimed_at < RECLAIM_AFTER:
        return False
    return previous.status == "pending" or previous.attempts < MAX_ATTEMPTS


def _update_if_unchanged(
    engine: Optional[Engine], notice: Notice, previous: _Claim, **values: object
) -> bool:
    """Change the row only if nobody changed it since it was read (compare and set)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(NoticeLog)
            .where(
                NoticeLog.kind == notice.kind,
                NoticeLog.subject_key == notice.subject_key,
                NoticeLog.status == previous.status,
                NoticeLog.attempts == previous.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _claim(
    engine: Optional[Engine],
    notice: Notice,
    conversation_id: str,
    moment: datetime,
    previous: Optional[_Claim],
) -> bool:
    """Record the notice as pending; False when another runner got there first."""
    if previous is not None:
        return _update_if_unchanged(
            engine,
            notice,
            previous,
            status="pending",
            attempts=previous.attempts + 1,
            created_at=moment,
            conversation_id=conversation_id,
        )
    try:
        with session_scope(engine) as session:
            session.add(
                NoticeLog(
                    kind=notice.kind,
                    subject_key=notice.subject_key,
                    customer_id=notice.customer_id,
                    order_id=notice.order_id,
                    conversation_id=conversation_id,
                    status="pending",
                    attempts=1,
                    due_at=notice.due_at,
                    created_at=moment,
                )
            )
        return True
    except IntegrityError:  # another runner claimed it first
        return False


def _finish(engine: Optional[Engine], notice: Notice, now: datetime, error: str = "") -> None:
    with session_scope(engine) as session:
        row = session.execute(
            select(NoticeLog).where(
                NoticeLog.kind == notice.kind, NoticeLog.subject_key == notice.subject_key
            )
        ).scalar_one()
        if error:
            row.status, row.last_error = "failed", error[:200]
        else:
            row.status, row.sent_at, row.last_error = "sent", now, None


def _elapsed_clock(start: datetime) -> Callable[[], datetime]:
    """``start`` moving on with the time that really passes."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def run_once(
    deliverer: Deliverer,
    signing_key: str,
    now: datetime,
    tz: ZoneInfo,
    engine: Optional[Engine] = None,
    limit: int = DEFAULT_LIMIT,
    clock: Optional[Callable[[], datetime]] = None,
) -> Report:
    """Send every notice that is due and not sent yet, at most ``limit`` of them.

    Args:
        deliverer: Puts notices into conversations and finds them there again.
        signing_key: SHOP_SIGNING_KEY (conversation ids of signed-in customers).
        now: The moment of this run (timezone-aware; tests inject it): what is due.
        tz: The shop's time zone (quiet hours, days).
        engine: Shop database; the process-wide one when omitted.
        limit: Most notices delivered in one run.
        clock: The current moment while the run goes on (quiet hours and ``not_after`` are
            checked before each delivery; claim and ``sent_at`` times). When omitted, ``now``
            plus the time elapsed since the run began.

    Returns:
        What was sent, found already delivered, failed, or from when on it is quiet.
    """
    report = Report()
    clock = clock or _elapsed_clock(now)
    if quiet_hours.is_quiet(now, tz):
        report.quiet_until = quiet_hours.quiet_until(now, tz)
        return report
    with session_scope(engine) as session:
        due = find_due(session, now, tz)
    report.due = len(due)
    for index, notice in enumerate(due):
        if len(report.sent) + len(report.failed) >= limit:
            report.skipped += 1
            continue
        conversation_id = conversation_id_for(notice.customer_id, signing_key)
        previous = _read(engine, notice)
        if previous is not None and not _to_take_up(previous, clock()):
            report.skipped += 1
            continue
        if previous is not None:  # it may have arrived although the claim did not end well
            try:
                arrived = deliverer.delivered_at(conversation_id, notice.intent, notice.notice_id)
            except DeliveryError as error:
                logger.warning("notice %s: cannot tell if delivered: %s", notice.notice_id, error)
                report.failed.append(notice)
                continue
            if arrived is not None:
                if _update_if_unchanged(
                    engine, notice, previous, status="sent", sent_at=arrived, last_error=None
                ):
                    report.confirmed.append(notice)
                else:
                    report.skipped += 1
                continue
            if previous.attempts >= MAX_ATTEMPTS:  # an abandoned last attempt: give up
                _update_if_unchanged(
                    engine, notice, previous, status="failed", last_error="abandoned, not sent"
                )
                report.skipped += 1
                continue
        moment = clock()
        if quiet_hours.is_quiet(moment, tz):
            report.quiet_until = quiet_hours.quiet_until(moment, tz)
            report.skipped += len(due) - index
            break
        if notice.not_after is not None and moment >= notice.not_after:
            report.skipped += 1
            continue
        try:
            held = deliverer.held_by_a_person(conversation_id)
        except DeliveryError as error:
            logger.warning("notice %s: cannot read the conversation: %s", notice.notice_id, error)
            report.failed.append(notice)
            continue
        if held:
            report.held.append(notice)
            continue
        if not _claim(engine, notice, conversation_id, moment, previous):
            report.skipped += 1
            continue
        try:
            deliverer.deliver(conversation_id, notice.intent, notice.facts, notice.notice_id)
        except DeliveryError as error:
            logger.warning("notice %s failed: %s", notice.notice_id, error)
            _finish(engine, notice, clock(), error=str(error) or "delivery failed")
            report.failed.append(notice)
            continue
        _finish(engine, notice, clock())
        report.sent.append(notice)
    return report
