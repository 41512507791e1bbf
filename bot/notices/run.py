"""Sending what is due, once: claim in ``notice_log``, deliver, mark sent.

A notice is claimed (a ``pending`` row; the unique (kind, subject_key) index makes a second
claim fail) before it is delivered and marked ``sent`` after, so a restart or a second runner
never sends it again. A failed delivery is retried on later runs, at most
:data:`MAX_ATTEMPTS` times. Nothing is sent in quiet hours (:mod:`bot.notices.quiet`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from actions.db import session_scope
from actions.identity import conversation_id_for
from actions.models import NoticeLog
from bot.notices import quiet
from bot.notices.delivery import Deliverer, DeliveryError
from bot.notices.due import Notice, find_due

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
DEFAULT_LIMIT = 20


@dataclass
class Report:
    """What one run did."""

    quiet_until: Optional[datetime] = None
    due: int = 0
    sent: List[Notice] = field(default_factory=list)
    failed: List[Notice] = field(default_factory=list)
    skipped: int = 0

    def summary(self) -> str:
        """One line for logs and the command line."""
        if self.quiet_until is not None:
            return f"quiet hours: nothing sent, waiting until {self.quiet_until.isoformat()}"
        return (
            f"{self.due} due, {len(self.sent)} sent, {len(self.failed)} failed, "
            f"{self.skipped} already handled or over the limit"
        )


def _claim(engine: Optional[Engine], notice: Notice, conversation_id: str, now: datetime) -> bool:
    """Record the notice as pending; False when it was sent, is pending or has failed too often."""
    try:
        with session_scope(engine) as session:
            row = session.execute(
                select(NoticeLog).where(
                    NoticeLog.kind == notice.kind, NoticeLog.subject_key == notice.subject_key
                )
            ).scalar_one_or_none()
            if row is None:
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
                        created_at=now,
                    )
                )
                return True
            if row.status != "failed" or row.attempts >= MAX_ATTEMPTS:
                return False
            row.status, row.attempts = "pending", row.attempts + 1
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
        deliverer: Puts notices into conversations.
        signing_key: SHOP_SIGNING_KEY (conversation ids of signed-in customers).
        now: The moment of this run (timezone-aware; tests inject it).
        tz: The shop's time zone (quiet hours, days).
        engine: Shop database; the process-wide one when omitted.
        limit: Most notices delivered in one run.
        clock: Gives the moment recorded as ``sent_at`` (``now`` when omitted).

    Returns:
        What was sent, what failed, or until when it is quiet.
    """
    report = Report()
    if quiet.is_quiet(now, tz):
        report.quiet_until = quiet.quiet_until(now, tz)
        return report
    with session_scope(engine) as session:
        due = find_due(session, now, tz)
    report.due = len(due)
    for notice in due:
        if len(report.sent) + len(report.failed) >= limit:
            report.skipped += 1
            continue
        conversation_id = conversation_id_for(notice.customer_id, signing_key)
        if not _claim(engine, notice, conversation_id, now):
            report.skipped += 1
            continue
        try:
            deliverer.deliver(conversation_id, notice.intent, notice.facts)
        except DeliveryError as error:
            logger.warning("notice %s %s failed: %s", notice.kind, notice.subject_key, error)
            _finish(engine, notice, now, error=str(error) or "delivery failed")
            report.failed.append(notice)
            continue
        _finish(engine, notice, clock() if clock else now)
        report.sent.append(notice)
    return report
