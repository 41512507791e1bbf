"""Proactive notices: what is due, quiet hours, no duplicates after a restart, retries."""

import json
import threading
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.db import make_engine
from actions.identity import conversation_id_for
from actions.models import (
    Customer,
    InstallationAppointment,
    NoticeLog,
    Order,
    OrderItem,
    Product,
    Sku,
)
from actions.seed import DEMO_NOW
from bot.notices import quiet
from bot.notices.delivery import DeliveryError, RasaDeliverer
from bot.notices.due import find_due, formula_notices
from bot.notices.run import MAX_ATTEMPTS, run_once
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
            now = datetime.combine(day - timedelta(days=days_before), time(9), TZ)
            found = [n for n in find_due(session, now, TZ) if n.kind == "installation_reminder"]
            assert len(found) == expected * sum(1 for v in visits if v.date == day), days_before
        found_facts = [
            n.facts
            for n in find_due(session, datetime.combine(day, time(9), TZ), TZ)
            if n.kind == "installation_reminder"
        ][0]
    assert found_facts["visit_day"] == f"{day.month}月{day.day}日"
    assert found_facts["visit_slot"] in ("上午", "下午", "晚上") and found_facts["provider"]


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
    assert quiet.is_quiet(moment, TZ) is is_quiet
    assert quiet.is_quiet(moment.astimezone(quiet.ZoneInfo("UTC")), TZ) is is_quiet


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


def test_a_failed_delivery_is_retried_then_given_up(engine):
    failing = Recorder(failing=True)
    for _ in range(MAX_ATTEMPTS - 1):
        assert run_once(failing, KEY, DEMO_NOW, TZ, engine=engine, limit=1).failed
    [first] = run_once(failing, KEY, DEMO_NOW, TZ, engine=engine, limit=1).failed
    later = run_once(failing, KEY, DEMO_NOW, TZ, engine=engine, limit=1)
    assert [n.subject_key for n in later.failed] != [first.subject_key]
    with Session(engine) as session:
        row = session.execute(
            select(NoticeLog).where(NoticeLog.subject_key == first.subject_key)
        ).scalar_one()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS and "500" in row.last_error


class _FakeRasa(BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeRasa.seen.append((self.path, body))
        status = 404 if "unknown" in self.path else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_the_rasa_deliverer_triggers_the_intent_with_the_facts_as_entities():
    server = HTTPServer(("127.0.0.1", 0), _FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        deliverer = RasaDeliverer(url, "secret-token")
        deliverer.deliver("c-abc", "EXTERNAL_shipping_notice", {"goods": "每日坚果"})
        path, body = _FakeRasa.seen[-1]
        assert (
            path == "/conversations/c-abc/trigger_intent?token=secret-token&output_channel=latest"
        )
        assert body == {"name": "EXTERNAL_shipping_notice", "entities": {"goods": "每日坚果"}}
        with pytest.raises(DeliveryError, match="404"):
            deliverer.deliver("unknown", "EXTERNAL_shipping_notice", {})
    finally:
        server.shutdown()
    with pytest.raises(DeliveryError, match="unreachable"):
        RasaDeliverer(url, "t", timeout=2).deliver("c-abc", "EXTERNAL_shipping_notice", {})
