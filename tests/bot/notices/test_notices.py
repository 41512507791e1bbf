"""Proactive notices: what is due, quiet hours, no duplicates after a restart, retries."""

import json
import socket
import threading
import time as time_module
import urllib.parse
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from rasa.shared.core.events import UserUttered
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.notices.delivery import DeliveryError, RasaDeliverer
from bot.notices.due import find_due, formula_notices
from bot.notices.run import MAX_ATTEMPTS, RECLAIM_AFTER, run_once
from shop.db import make_engine
from shop.db.models import (
    Customer,
    InstallationAppointment,
    NoticeLog,
    Order,
    OrderItem,
    Product,
    Sku,
)
from shop.demo.seed import DEMO_NOW
from shop.policy import quiet_hours
from shop.signing import conversation_id_for
from tests.bot.notices.conftest import KEY, TZ, Recorder

KINDS = {
    "shipping_notice",
    "delay_apology",
    "follow_up_visit",
    "installation_reminder",
    "formula_runout",
}


def test_shipping_delay_and_follow_up_notices_are_found_in_the_demo_shop(engine):
    with Session(engine) as session:
        due = find_due(session, DEMO_NOW, TZ)
    assert {n.kind for n in due} == {"shipping_notice", "delay_apology", "follow_up_visit"}
    keys = [(n.kind, n.subject_key) for n in due]
    assert len(keys) == len(set(keys))
    for notice in due:
        assert all(str(v).strip() for v in notice.facts.values()), notice
        assert notice.intent == f"EXTERNAL_{notice.kind}"
        assert notice.intent.removeprefix("EXTERNAL_") in KINDS
    stalled = [n for n in due if n.kind == "delay_apology"]
    assert all(int(n.facts["hours_stalled"]) >= 48 for n in stalled)


def test_installation_visits_are_reminded_the_day_before_and_on_the_day(engine):
    with Session(engine) as session:
        visits = (
            session.execute(
                select(InstallationAppointment).where(InstallationAppointment.status == "booked")
            )
            .scalars()
            .all()
        )
        day = min(v.date for v in visits)
        for days_before, expected in ((2, 0), (1, 1), (0, 1), (-1, 0)):
            now = datetime.combine(day - timedelta(days=days_before), time(8, 30), TZ)
            found = [n for n in find_due(session, now, TZ) if n.kind == "installation_reminder"]
            assert len(found) == expected * sum(1 for v in visits if v.date == day), days_before
        found_facts = [
            n.facts
            for n in find_due(session, datetime.combine(day, time(8, 30), TZ), TZ)
            if n.kind == "installation_reminder"
        ][0]
    assert found_facts["visit_day"] == f"{day.month}月{day.day}日"
    assert found_facts["visit_slot"] in ("上午", "下午", "晚上") and found_facts["provider"]


def _visit_on(session, slot):
    """The earliest booked visit, moved to the given slot; returns its day."""
    visit = (
        session.execute(
            select(InstallationAppointment)
            .where(InstallationAppointment.status == "booked")
            .order_by(InstallationAppointment.date, InstallationAppointment.id)
        )
        .scalars()
        .first()
    )
    visit.slot = slot
    session.flush()
    return visit


@pytest.mark.parametrize(
    "slot, last_reminded, first_too_late",
    [("morning", time(8, 59), time(9)), ("afternoon", time(11, 59), time(12))],
)
def test_a_visit_today_is_reminded_only_before_its_slot_begins(
    engine, slot, last_reminded, first_too_late
):
    with Session(engine) as session:
        visit = _visit_on(session, slot)

        def reminded(day, at):
            moment = datetime.combine(day, at, TZ)
            return [
                n
                for n in find_due(session, moment, TZ)
                if n.subject_key == f"appointment:{visit.id}"
            ]

        [on_the_day] = reminded(visit.date, last_reminded)
        assert on_the_day.not_after == datetime.combine(visit.date, first_too_late, TZ)
        assert reminded(visit.date, first_too_late) == []
        assert reminded(visit.date, time(20)) == []
        assert len(reminded(visit.date - timedelta(days=1), time(21))) == 1


def test_a_reminder_is_not_sent_once_the_slot_has_begun_during_the_run(engine):
    """Found due at 08:50; by the time its turn comes it is 09:00:05 and the visit has begun."""
    with Session(engine) as session:
        visit = _visit_on(session, "morning")
        day, subject = visit.date, f"appointment:{visit.id}"
        session.commit()
    found_at = datetime.combine(day, time(8, 50), TZ)
    recorder = Recorder()
    report = run_once(
        recorder,
        KEY,
        found_at,
        TZ,
        engine=engine,
        limit=500,
        clock=lambda: datetime.combine(day, time(9, 0, 5), TZ),
    )
    with Session(engine) as session:
        assert subject in {n.subject_key for n in find_due(session, found_at, TZ)}
    assert report.sent and subject not in {n.subject_key for n in report.sent}
    delivered = {notice_id for _, _, notice_id in recorder.conversations}
    assert f"installation_reminder:{subject}" not in delivered


def _formula_customer(session, daily_grams=110):
    customer = Customer(
        name="林小满",
        nickname="小满妈妈",
        phone_masked="138****0707",
        phone_tail="0707",
        province="浙江",
        city="杭州",
        address_masked="浙江省杭州市西湖区***",
        personality_type="amiable",
        baby_birth_date=date(2024, 5, 1),
        formula_daily_grams=daily_grams,
    )
    session.add(customer)
    session.flush()
    return customer


def _formula_order(session, customer, delivered_days_ago, cans=2, number="2099000000001"):
    sku = (
        session.execute(select(Sku).join(Product).where(Product.department == "infant"))
        .scalars()
        .first()
    )
    moment = DEMO_NOW - timedelta(days=delivered_days_ago)
    order = Order(
        order_number=number,
        customer_id=customer.id,
        state="delivered",
        created_at=moment - timedelta(days=2),
        paid_at=moment - timedelta(days=2),
        delivered_at=moment,
        items_total_fen=cans * sku.product.price_fen,
        payable_fen=cans * sku.product.price_fen,
        shipping_city="杭州",
        address_masked="浙江省杭州市西湖区***",
    )
    order.items.append(
        OrderItem(sku_id=sku.id, quantity=cans, unit_price_fen=sku.product.price_fen)
    )
    session.add(order)
    session.flush()
    return order, sku


@pytest.mark.parametrize("delivered_days_ago, days_left", [(11, 3), (9, 5), (14, None), (5, None)])
def test_formula_runs_out_from_purchase_quantity_and_daily_use(
    engine, delivered_days_ago, days_left
):
    """2 cans × 800 g at 110 g a day last 14 days: reminded from 5 days before until the eve."""
    with Session(engine) as session:
        customer = _formula_customer(session)
        order, sku = _formula_order(session, customer, delivered_days_ago)
        mine = [n for n in formula_notices(session, DEMO_NOW, TZ) if n.customer_id == customer.id]
        if days_left is None:
            assert mine == []
            return
        [notice] = mine
        runout = DEMO_NOW.date() + timedelta(days=days_left)
        assert notice.subject_key == f"order:{order.id}"
        assert notice.facts["days_left"] == str(days_left)
        assert notice.facts["runout_day"] == f"{runout.month}月{runout.day}日"
        assert notice.facts == {**notice.facts, "cans": "2", "daily_grams": "110"}
        assert notice.facts["goods"] == sku.product.name


def test_a_newer_formula_purchase_cancels_the_reminder(engine):
    with Session(engine) as session:
        customer = _formula_customer(session)
        _formula_order(session, customer, 11)
        _formula_order(session, customer, 1, number="2099000000002")
        mine = [n for n in formula_notices(session, DEMO_NOW, TZ) if n.customer_id == customer.id]
        assert mine == []


@pytest.mark.parametrize(
    "local, is_quiet",
    [
        ("21:59", False),
        ("22:00", True),
        ("23:30", True),
        ("03:00", True),
        ("07:59", True),
        ("08:00", False),
        ("12:00", False),
    ],
)
def test_quiet_hours_are_22_to_8_shop_time(local, is_quiet):
    hour, minute = map(int, local.split(":"))
    moment = datetime(2024, 11, 23, hour, minute, tzinfo=TZ)
    assert quiet_hours.is_quiet(moment, TZ) is is_quiet
    assert quiet_hours.is_quiet(moment.astimezone(ZoneInfo("UTC")), TZ) is is_quiet


def test_nothing_is_sent_in_quiet_hours_it_waits_for_the_morning(engine):
    night = datetime(2024, 11, 23, 23, 15, tzinfo=TZ)
    recorder = Recorder()
    report = run_once(recorder, KEY, night, TZ, engine=engine)
    assert recorder.calls == []
    assert report.quiet_until == datetime(2024, 11, 24, 8, 0, tzinfo=TZ)
    with Session(engine) as session:
        assert session.execute(select(NoticeLog)).first() is None
    morning = run_once(recorder, KEY, datetime(2024, 11, 24, 8, 0, tzinfo=TZ), TZ, engine=engine)
    assert morning.sent and len(recorder.calls) == len(morning.sent)


def test_notices_go_to_the_customers_conversation_and_are_logged(engine):
    recorder = Recorder()
    report = run_once(recorder, KEY, DEMO_NOW, TZ, engine=engine, limit=500)
    assert report.sent and not report.failed
    by_subject = {(n.kind, n.subject_key): n for n in report.sent}
    for conversation_id, intent, facts in recorder.calls:
        assert conversation_id.startswith("c-") and intent.startswith("EXTERNAL_") and facts
    with Session(engine) as session:
        rows = session.execute(select(NoticeLog)).scalars().all()
    assert len(rows) == len(report.sent)
    for row in rows:
        notice = by_subject[(row.kind, row.subject_key)]
        assert row.status == "sent" and row.sent_at is not None
        assert row.conversation_id == conversation_id_for(notice.customer_id, KEY)


def test_nothing_is_sent_twice_after_a_restart(shop_url):
    first_engine = make_engine(shop_url)
    first = Recorder()
    sent = run_once(first, KEY, DEMO_NOW, TZ, engine=first_engine, limit=500).sent
    first_engine.dispose()
    restarted_engine = make_engine(shop_url)  # a new process: nothing kept in memory
    again = Recorder()
    later = DEMO_NOW + timedelta(minutes=5)
    report = run_once(again, KEY, later, TZ, engine=restarted_engine, limit=500)
    restarted_engine.dispose()
    assert sent and again.calls == [] and report.sent == []
    assert report.skipped == report.due


def test_the_limit_leaves_the_rest_for_the_next_run(engine):
    recorder = Recorder()
    first = run_once(recorder, KEY, DEMO_NOW, TZ, engine=engine, limit=5)
    second = run_once(recorder, KEY, DEMO_NOW, TZ, engine=engine, limit=5)
    assert len(first.sent) == len(second.sent) == 5
    assert len({(c[0], c[1], json.dumps(c[2], sort_keys=True)) for c in recorder.calls}) == 10


def test_a_notice_waits_while_an_agent_holds_the_conversation(engine):
    recorder = Recorder()
    with Session(engine) as session:
        notice = find_due(session, DEMO_NOW, TZ)[0]
    held = conversation_id_for(notice.customer_id, KEY)
    recorder.held.add(held)
    report = run_once(recorder, KEY, DEMO_NOW, TZ, engine=engine, limit=500)
    assert notice in report.held and report.sent
    assert all(call[0] != held for call in recorder.calls)
    with Session(engine) as session:  # not claimed: nothing to take up or give up later
        assert (
            session.execute(select(NoticeLog).where(NoticeLog.conversation_id == held))
            .scalars()
            .all()
            == []
        )
    recorder.held.clear()  # the agent hands the conversation back to the bot
    later = run_once(recorder, KEY, DEMO_NOW + timedelta(minutes=5), TZ, engine=engine, limit=500)
    assert later.sent == report.held and later.held == []
    assert {call[0] for call in recorder.calls[-len(later.sent) :]} == {held}
    assert "waiting for an agent" in report.summary()


def _row(engine, notice_id):
    kind, subject_key = notice_id.split(":", 1)
    with Session(engine) as session:
        return session.execute(
            select(NoticeLog).where(NoticeLog.kind == kind, NoticeLog.subject_key == subject_key)
        ).scalar_one()


LATER = RECLAIM_AFTER + timedelta(minutes=1)


def test_a_failed_delivery_is_retried_then_given_up(engine):
    failing = Recorder(failing=True)
    moment = DEMO_NOW
    [first] = run_once(failing, KEY, moment, TZ, engine=engine, limit=1).failed
    assert run_once(failing, KEY, moment + timedelta(minutes=1), TZ, engine=engine).failed != [
        first
    ]  # too soon: Rasa may still be working on it
    for _ in range(MAX_ATTEMPTS - 1):
        moment += LATER
        assert run_once(failing, KEY, moment, TZ, engine=engine, limit=1).failed == [first]
    later = run_once(failing, KEY, moment + LATER, TZ, engine=engine, limit=1)
    assert [n.subject_key for n in later.failed] != [first.subject_key]
    row = _row(engine, first.notice_id)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS and "500" in row.last_error
    checked = [c for c in failing.checks if c[2] == first.notice_id]
    assert len(checked) == MAX_ATTEMPTS - 1  # every retry first looked into the conversation


def test_a_delivery_that_timed_out_but_arrived_is_not_sent_again(engine):
    lost = Recorder(lose_reply=True)
    [notice] = run_once(lost, KEY, DEMO_NOW, TZ, engine=engine, limit=1).failed
    assert "did not answer" in _row(engine, notice.notice_id).last_error
    healthy = Recorder()
    healthy.conversations = lost.conversations  # the same conversations, as Rasa keeps them
    report = run_once(healthy, KEY, DEMO_NOW + LATER, TZ, engine=engine, limit=500)
    assert report.confirmed == [notice] and notice not in report.sent
    assert (lost.delivered_ids + healthy.delivered_ids).count(notice.notice_id) == 1
    row = _row(engine, notice.notice_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


@pytest.mark.parametrize("delivered_before_dying", [True, False])
def test_a_claim_left_pending_by_a_dead_runner_is_taken_up_again(engine, delivered_before_dying):
    dying = Recorder(dies=True, lose_reply=delivered_before_dying)
    with pytest.raises(KeyboardInterrupt):
        run_once(dying, KEY, DEMO_NOW, TZ, engine=engine)
    with Session(engine) as session:
        [row] = session.execute(select(NoticeLog)).scalars().all()
    notice_id = f"{row.kind}:{row.subject_key}"
    assert row.status == "pending"
    healthy = Recorder()
    healthy.conversations = dying.conversations
    soon = run_once(healthy, KEY, DEMO_NOW + timedelta(minutes=1), TZ, engine=engine, limit=500)
    assert notice_id not in {n.notice_id for n in soon.sent + soon.confirmed}
    assert _row(engine, notice_id).status == "pending"  # its runner might still be at it
    later = run_once(healthy, KEY, DEMO_NOW + LATER, TZ, engine=engine, limit=500)
    row = _row(engine, notice_id)
    assert row.status == "sent"
    if delivered_before_dying:
        assert [n.notice_id for n in later.confirmed] == [notice_id] and row.attempts == 1
    else:
        assert [n.notice_id for n in later.sent] == [notice_id] and row.attempts == 2
    assert (dying.delivered_ids + healthy.delivered_ids).count(notice_id) == 1


def test_an_abandoned_last_attempt_is_given_up_unless_it_arrived(engine):
    dying = Recorder(dies=True)
    with pytest.raises(KeyboardInterrupt):
        run_once(dying, KEY, DEMO_NOW, TZ, engine=engine)
    with Session(engine) as session:
        row = session.execute(select(NoticeLog)).scalar_one()
        row.attempts = MAX_ATTEMPTS
        notice_id = f"{row.kind}:{row.subject_key}"
        session.commit()
    healthy = Recorder()
    run_once(healthy, KEY, DEMO_NOW + LATER, TZ, engine=engine, limit=500)
    row = _row(engine, notice_id)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert notice_id not in healthy.delivered_ids


def test_quiet_hours_are_checked_before_each_delivery(engine):
    """A run starting at 21:59 whose deliveries take 40 s each stops at 22:00."""
    moment = [datetime(2024, 11, 23, 21, 59, tzinfo=TZ)]
    started = []

    def slow_delivery(*_):
        started.append(moment[0])
        moment[0] += timedelta(seconds=40)

    recorder = Recorder(on_deliver=slow_delivery)
    report = run_once(
        recorder, KEY, moment[0], TZ, engine=engine, limit=500, clock=lambda: moment[0]
    )
    assert report.due > 2
    assert started == [datetime(2024, 11, 23, 21, 59, s, tzinfo=TZ) for s in (0, 40)]
    assert len(report.sent) == 2 and report.skipped == report.due - 2
    assert report.quiet_until == datetime(2024, 11, 24, 8, 0, tzinfo=TZ)
    assert "quiet hours began" in report.summary()
    with Session(engine) as session:  # the rest is not claimed: it goes in the morning
        assert len(session.execute(select(NoticeLog)).scalars().all()) == 2
    morning = datetime(2024, 11, 24, 8, 0, tzinfo=TZ)
    assert run_once(Recorder(), KEY, morning, TZ, engine=engine, limit=500).sent


class _FakeRasa(BaseHTTPRequestHandler):
    """Rasa's trigger_intent and tracker endpoints, keeping the events as Rasa records them."""

    seen = []
    conversations = {}
    paused = set()  # conversations an agent holds
    slow = 0.0  # seconds before answering a trigger that was recorded

    def _target(self):
        parts = urllib.parse.urlsplit(self.path)
        return urllib.parse.unquote(parts.path.split("/")[2]), urllib.parse.parse_qs(parts.query)

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeRasa.seen.append((self.path, body))
        conversation_id, _ = self._target()
        if "unknown" in self.path:
            return self._answer(404, {})
        entities = [{"entity": k, "value": v} for k, v in body["entities"].items()]
        event = UserUttered.create_external(body["name"], entities, "socketio").as_dict()
        _FakeRasa.conversations.setdefault(conversation_id, []).append(event)
        time_module.sleep(_FakeRasa.slow)
        self._answer(200, {"tracker": {}})

    def do_GET(self):  # noqa: N802
        _FakeRasa.seen.append((self.path, None))
        conversation_id, query = self._target()
        if query.get("token") != ["secret-token"]:
            return self._answer(401, {})
        events = _FakeRasa.conversations.get(conversation_id, [])
        paused = conversation_id in _FakeRasa.paused
        self._answer(200, {"sender_id": conversation_id, "events": events, "paused": paused})

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_rasa():
    _FakeRasa.seen, _FakeRasa.conversations, _FakeRasa.slow = [], {}, 0.0
    _FakeRasa.paused = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_rasa_deliverer_triggers_the_intent_with_the_facts_as_entities(fake_rasa):
    deliverer = RasaDeliverer(fake_rasa, "secret-token")
    deliverer.deliver("c-abc", "EXTERNAL_shipping_notice", {"goods": "每日坚果"}, "n:1")
    path, body = _FakeRasa.seen[-1]
    assert path == "/conversations/c-abc/trigger_intent?token=secret-token&output_channel=latest"
    assert body == {
        "name": "EXTERNAL_shipping_notice",
        "entities": {"goods": "每日坚果", "notice_id": "n:1"},
    }
    with pytest.raises(DeliveryError, match="404"):
        deliverer.deliver("unknown", "EXTERNAL_shipping_notice", {}, "n:2")


def test_the_rasa_deliverer_reads_whether_an_agent_holds_the_conversation(fake_rasa):
    deliverer = RasaDeliverer(fake_rasa, "secret-token")
    _FakeRasa.paused = {"c-held"}
    assert deliverer.held_by_a_person("c-held") is True
    path, _ = _FakeRasa.seen[-1]
    assert path == "/conversations/c-held/tracker?token=secret-token&include_events=NONE"
    assert deliverer.held_by_a_person("c-abc") is False
    with pytest.raises(DeliveryError, match="401"):
        RasaDeliverer(fake_rasa, "wrong").held_by_a_person("c-held")


def test_the_rasa_deliverer_finds_a_notice_in_the_conversations_tracker(fake_rasa):
    deliverer = RasaDeliverer(fake_rasa, "secret-token")
    assert deliverer.delivered_at("c-abc", "EXTERNAL_shipping_notice", "n:1") is None
    deliverer.deliver("c-abc", "EXTERNAL_shipping_notice", {"goods": "每日坚果"}, "n:1")
    path, _ = _FakeRasa.seen[-2]
    assert path == "/conversations/c-abc/tracker?token=secret-token&include_events=ALL"
    found = deliverer.delivered_at("c-abc", "EXTERNAL_shipping_notice", "n:1")
    assert found is not None and found.tzinfo is not None
    assert deliverer.delivered_at("c-abc", "EXTERNAL_shipping_notice", "n:2") is None
    assert deliverer.delivered_at("c-abc", "EXTERNAL_delay_apology", "n:1") is None
    assert deliverer.delivered_at("c-other", "EXTERNAL_shipping_notice", "n:1") is None
    with pytest.raises(DeliveryError, match="401"):
        RasaDeliverer(fake_rasa, "wrong").delivered_at("c-abc", "EXTERNAL_shipping_notice", "n:1")


def test_a_rasa_delivery_that_timed_out_is_found_in_the_tracker_not_sent_again(engine, fake_rasa):
    _FakeRasa.slow = 1.0  # Rasa records the event, then answers after the client gave up
    impatient = RasaDeliverer(fake_rasa, "secret-token", timeout=0.3)
    [notice] = run_once(impatient, KEY, DEMO_NOW, TZ, engine=engine, limit=1).failed
    assert "did not answer" in _row(engine, notice.notice_id).last_error
    _FakeRasa.slow = 0.0
    deliverer = RasaDeliverer(fake_rasa, "secret-token")
    report = run_once(deliverer, KEY, DEMO_NOW + LATER, TZ, engine=engine, limit=1)
    assert report.confirmed == [notice]
    triggers = [
        body
        for path, body in _FakeRasa.seen
        if body and body["entities"]["notice_id"] == notice.notice_id
    ]
    assert len(triggers) == 1
    assert _row(engine, notice.notice_id).status == "sent"


def test_an_unreachable_rasa_is_a_delivery_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    deliverer = RasaDeliverer(url, "t", timeout=2)
    with pytest.raises(DeliveryError, match="unreachable"):
        deliverer.deliver("c-abc", "EXTERNAL_shipping_notice", {}, "n:1")
    with pytest.raises(DeliveryError, match="tracker check failed"):
        deliverer.delivered_at("c-abc", "EXTERNAL_shipping_notice", "n:1")
