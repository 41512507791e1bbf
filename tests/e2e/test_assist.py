"""Agent assist against the real stack: drafts that do nothing, sends that do, decisions recorded.

A signed-in customer asks for a person, an agent takes the conversation over in assist mode, and
the customer asks for price protection on an order whose price dropped by more than the frontline
limit but less than a supervisor's. The frontline agent's top suggestion is an escalation, the
supervisor's grants the difference; neither draft writes a ticket; the agent may not promise more
than the limit; the supervisor's one-click send grants it for real and the tracker records it.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.aftersale.price_protection import price_drops, refunded_item_ids, refunds_of
from bot.notices.delivery import RasaDeliverer
from bot.notices.due import find_due
from bot.notices.run import run_once
from shop.db import make_engine
from shop.db.models import ComplaintTicket, Customer, NoticeLog, Order, utcnow
from shop.policy.compensation import COMPENSATION_LIMIT_FEN
from shop.repository.aftersale import tickets_for_order
from shop.signing import conversation_id_for, sign_chat
from tests.e2e.conftest import bot_texts, shows_notice

pytestmark = pytest.mark.e2e


class Console:
    """One staff member's browser session against the web app, over plain HTTP."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        opener = urllib.request.build_opener(_NoRedirect)
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        try:
            opener.open(urllib.request.Request(base + "/agent/signin", data=form), timeout=20)
        except urllib.error.HTTPError as answer:
            assert answer.code == 302, answer.code
            self.cookie = answer.headers["Set-Cookie"].split(";", 1)[0]

    def call(self, path: str, body: dict | None = None) -> tuple:
        headers = {"Cookie": self.cookie}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.update({"Content-Type": "application/json", "X-Agent-Console": "1"})
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read().decode()
                return response.status, json.loads(raw) if "json" in response.headers.get(
                    "Content-Type", ""
                ) else raw
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode() or "{}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def engine(assistant):
    return make_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}")


def price_drop_above_frontline(engine):
    """An order of a customer whose price dropped by more than the frontline limit.

    The difference is worked out as the action does (refunded lines get none), and an order
    that already has a price-protection ticket is passed over: it would only be told so.
    """
    now = utcnow()
    with Session(engine) as session:
        rows = session.execute(
            select(Order, Customer.id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.paid_at > now - timedelta(days=14), Order.state != "cancelled")
            .order_by(Order.order_number)
        ).all()
        for order, customer_id in rows:
            if tickets_for_order(session, order, kind="price_protection"):
                continue
            item_ids = {item.id for item in order.items}
            refunded = refunded_item_ids(refunds_of(session, order), item_ids)
            drops = price_drops(session, order, now, skip=refunded)
            total = sum(drop["difference_fen"] for drop in drops)
            if COMPENSATION_LIMIT_FEN["agent"] < total <= COMPENSATION_LIMIT_FEN["supervisor"]:
                return order.order_number, customer_id, total
    pytest.fail("the demo shop has no price drop between the frontline and supervisor limits")


def tickets(engine, order_number):
    with Session(engine) as session:
        return session.execute(
            select(func.count(ComplaintTicket.id))
            .join(Order, Order.id == ComplaintTicket.order_id)
            .where(Order.order_number == order_number, ComplaintTicket.kind == "price_protection")
        ).scalar_one()


def test_suggestions_follow_the_agents_authority_and_only_sending_acts(assistant, engine):
    settings = assistant.settings
    order_number, customer_id, total = price_drop_above_frontline(engine)
    conversation = conversation_id_for(customer_id, settings.signing_key)
    signed = {
        "customer_id": customer_id,
        "customer_sig": sign_chat(customer_id, conversation, settings.signing_key),
    }
    agent = Console(settings.web_url, "agent", "agent-demo")
    supervisor = Console(settings.web_url, "supervisor", "supervisor-demo")
    path = f"/agent/api/conversations/{conversation}"

    assistant.say(conversation, "转人工", signed)
    status, _ = agent.call(path + "/mode", {"mode": "assist"})
    assert status == 200
    quiet = assistant.say(conversation, f"订单{order_number}刚买就降价了，能补差价吗", signed)
    assert quiet == []  # while a person holds it, the bot answers nobody

    status, found = agent.call(path + "/suggestions?wait=10")
    assert status == 200, found
    ranked = found["suggestions"]
    assert len(ranked) >= 3 and [s["rank"] for s in ranked] == list(range(1, len(ranked) + 1))
    top = ranked[0]
    assert top["source"] == "bot" and top["intent"] == "price_protection"
    assert top["escalation"] and top["compensation_fen"] == 0
    assert order_number in top["text"]
    assert {s["source"] for s in ranked[1:]} <= {"intent", "response"}
    assert len({s["text"] for s in ranked}) == len(ranked)
    assert tickets(engine, order_number) == 0  # a draft writes nothing

    status, granted = supervisor.call(path + "/suggestions?wait=10")
    assert status == 200
    best = granted["suggestions"][0]
    assert not best["escalation"] and best["compensation_fen"] == total
    assert tickets(engine, order_number) == 0

    too_much = f"给您补偿{total // 100}元"
    status, refused = agent.call(path + "/messages", {"text": too_much})
    assert status == 403 and refused["error"] == "above_authority"
    status, _ = agent.call(path + "/suggestions/shown", {"message_id": found["message_id"]})
    assert status == 200

    status, sent = supervisor.call(
        path + "/suggestions/send",
        {"message_id": granted["message_id"], "rank": 1, "text": best["text"]},
    )
    assert status == 200 and sent["decision"] == "accepted"
    assert tickets(engine, order_number) == 1
    events = assistant.tracker(conversation)["events"]
    [message] = [e for e in events if e["event"] == "bot" and e.get("text") == best["text"]]
    assert message["metadata"]["sender"] == "agent" and message["metadata"]["agent"] == "supervisor"
    decision = message["metadata"]["assist"]
    assert decision["decision"] == "accepted" and decision["rank"] == 1
    assert decision["for_message"] == granted["message_id"] and decision["edit_distance"] == 0
    assert decision["seconds_to_send"] >= 0
    shown = [e for e in events if e["event"] == "agent" and e["data"]["assist"] == "shown"]
    assert shown and shown[0]["data"]["suggestions"][0]["text"] == top["text"]
    from_the_bot = [
        e.get("text")
        for e in events
        if e["event"] == "bot" and not e.get("metadata", {}).get("sender")
    ]
    assert top["text"] not in from_the_bot  # the draft never reached the customer

    status, again = supervisor.call(
        path + "/suggestions/send", {"message_id": granted["message_id"], "rank": 2, "text": "x"}
    )
    assert status == 409 and again["error"] == "stale_suggestion"


def test_an_edited_suggestion_is_recorded_with_its_distance(assistant):
    settings = assistant.settings
    conversation = "assist-edit-" + settings.rasa_token[:8]
    agent = Console(settings.web_url, "agent", "agent-demo")
    path = f"/agent/api/conversations/{conversation}"
    assistant.say(conversation, "你好")
    assert agent.call(path + "/mode", {"mode": "human"})[0] == 200
    assistant.say(conversation, "这个有赠品吗")
    status, found = agent.call(path + "/suggestions?wait=10")
    assert status == 200 and len(found["suggestions"]) >= 3
    top = found["suggestions"][0]
    edited = top["text"] + "祝您购物愉快！"
    status, sent = agent.call(
        path + "/suggestions/send", {"message_id": found["message_id"], "rank": 1, "text": edited}
    )
    assert status == 200 and sent["decision"] == "edited"
    [message] = [e for e in assistant.tracker(conversation)["events"] if e.get("text") == edited]
    assert message["metadata"]["assist"]["edit_distance"] == len("祝您购物愉快！")

    status, metrics = agent.call("/agent/metrics.csv")
    assert status == 200 and conversation in metrics and "edited" in metrics
    status, by_intent = agent.call("/agent/metrics.csv?part=intents")
    assert status == 200 and by_intent.splitlines()[1].startswith("*,")
    status, handed = agent.call("/agent/metrics.csv?part=handoffs")
    assert status == 200 and "first_response_seconds" in handed.splitlines()[0]
    assert agent.call("/agent/metrics.csv?part=secrets")[0] == 400


def test_a_notice_waits_while_an_agent_holds_the_conversation(assistant, engine):
    settings = assistant.settings
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime.now(tz).replace(hour=11, minute=0)  # inside sending hours
    with Session(engine) as session:
        logged = set(session.execute(select(NoticeLog.kind, NoticeLog.subject_key)).all())
        notice = next(
            n for n in find_due(session, now, tz) if (n.kind, n.subject_key) not in logged
        )
    conversation = conversation_id_for(notice.customer_id, settings.signing_key)
    signed = {
        "customer_id": notice.customer_id,
        "customer_sig": sign_chat(notice.customer_id, conversation, settings.signing_key),
    }
    assistant.say(conversation, "你好", signed)
    agent = Console(settings.web_url, "agent", "agent-demo")
    path = f"/agent/api/conversations/{conversation}/mode"
    assert agent.call(path, {"mode": "human"})[0] == 200
    deliverer = RasaDeliverer(settings.rasa_url, settings.rasa_token)
    events = len(assistant.tracker(conversation)["events"])
    held = run_once(deliverer, settings.signing_key, now, tz, engine=engine, limit=1)
    assert notice in held.held and notice not in held.sent
    # not even recorded while the agent holds it
    assert len(assistant.tracker(conversation)["events"]) == events

    assert agent.call(path, {"mode": "auto"})[0] == 200
    before = bot_texts(assistant.tracker(conversation))
    later = run_once(deliverer, settings.signing_key, now, tz, engine=engine, limit=1)
    assert later.sent == [notice]
    assert shows_notice(bot_texts(assistant.tracker(conversation))[len(before) :], notice)
