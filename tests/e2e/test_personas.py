"""Personas, scripts and proactive notices through the real Rasa server, action server and /nlg."""

from datetime import datetime

import pytest
import yaml
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.nlg.script import to_script
from bot.notices.delivery import RasaDeliverer
from bot.notices.due import find_due
from bot.notices.run import run_once
from bot.settings import ROOT
from shop.signing import conversation_id_for, sign_chat
from tests.e2e.conftest import bot_texts, shows_notice, texts

pytestmark = pytest.mark.e2e


def persona_text(persona, response):
    data = yaml.safe_load((ROOT / "personas" / f"{persona}.yml").read_text(encoding="utf-8"))
    value = data["responses"][response]
    return value["text"] if isinstance(value, dict) else value


def test_a_persona_change_mid_conversation_takes_effect_on_the_next_reply(
    assistant, sender, responses
):
    assert texts(assistant.say(sender, "亲在吗")) == responses["utter_greet"]
    [changed] = texts(assistant.say(sender, "我要瘋癫組的客服"))
    assert changed == to_script(persona_text("crazy", "utter_persona_changed"), "traditional")
    assert texts(assistant.say(sender, "你好")) == [  # greeted already: a short "I am here"
        to_script(persona_text("crazy", "utter_greet_again"), "traditional")
    ]
    [master] = texts(assistant.say(sender, "切换到主人模式"))
    assert master == persona_text("master", "utter_persona_changed")
    assert texts(assistant.say(sender, "谢谢")) == [persona_text("master", "utter_thank")]
    assert assistant.tracker(sender)["slots"]["persona"] == "master"


def test_master_calls_the_customer_zhuren_in_order_answers(assistant, sender, shop_order):
    assistant.say(sender, "主人模式")
    assert texts(assistant.say(sender, "帮我查下订单")) == [
        persona_text("master", "utter_ask_order_id")
    ]
    assistant.say(sender, shop_order["order_id"])
    replies = [t for t in texts(assistant.say(sender, shop_order["phone_tail"])) if t]
    [answer] = [t for t in replies if shop_order["order_id"] in t]
    assert answer.startswith("主人")
    assert all("主人" in t and "{" not in t and "None" not in t for t in replies)


def test_the_advisor_and_the_lady_answer_the_same_question_differently(assistant, sender):
    assistant.say(sender, "我要专业顾问")
    [advisor] = texts(assistant.say(sender, "包邮吗"))
    assistant.say(sender + "-b", "给我换淑女组")
    [lady] = texts(assistant.say(sender + "-b", "包邮吗"))
    assert advisor != lady
    assert "亲" not in advisor and "亲" not in lady


def test_traditional_round_trip(assistant, sender, responses):
    [answer] = texts(assistant.say(sender, "請問你們家賣的是正品嗎"))
    assert answer == to_script(responses["utter_authenticity"][0], "traditional")
    assert "親" in answer and "亲" not in answer
    assistant.say(sender, "幫我查下訂單")
    [asked] = texts(assistant.say(sender, "2024112300123"))
    assert "隱私" in asked or "訂單" in asked
    [simplified] = texts(assistant.say(sender + "-s", "请问你们家卖的是正品吗"))
    assert "亲" in simplified


def test_a_notice_reaches_the_customers_conversation_in_their_persona(assistant):
    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    with Session(engine) as session:
        due = find_due(session, datetime.now(tz), tz)
    notice = next(n for n in due if n.kind == "shipping_notice")
    conversation = conversation_id_for(notice.customer_id, assistant.settings.signing_key)
    signed = {
        "customer_id": notice.customer_id,
        "customer_sig": sign_chat(notice.customer_id, conversation, assistant.settings.signing_key),
    }
    assistant.say(conversation, "主人模式", signed)
    deliverer = RasaDeliverer(assistant.settings.rasa_url, assistant.settings.rasa_token)
    deliverer.deliver(conversation, notice.intent, notice.facts)
    last = bot_texts(assistant.tracker(conversation))[-1]
    assert "鼠小箱已穿戴整齐" in last and notice.facts["waybill"] in last
    assert last.startswith("主人")


def test_the_notice_job_sends_each_notice_once(assistant):
    tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    now = datetime.now(tz).replace(hour=11, minute=0)  # inside sending hours
    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    deliverer = RasaDeliverer(assistant.settings.rasa_url, assistant.settings.rasa_token)
    key = assistant.settings.signing_key
    first = run_once(deliverer, key, now, tz, engine=engine, limit=3)
    assert len(first.sent) == 3 and not first.failed
    notice = first.sent[0]
    conversation = conversation_id_for(notice.customer_id, key)
    before = bot_texts(assistant.tracker(conversation))
    # a notice may come with a card (a bot message without text) besides its text; another test
    # may have written Traditional in this conversation
    assert shows_notice(before, notice)
    again = run_once(deliverer, key, now, tz, engine=engine, limit=3)
    assert {(n.kind, n.subject_key) for n in again.sent}.isdisjoint(
        {(n.kind, n.subject_key) for n in first.sent}
    )
    assert bot_texts(assistant.tracker(conversation))[: len(before)] == before
