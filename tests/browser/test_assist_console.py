"""Assist mode in two browser contexts: the agent sends the bot's suggestions, the customer sees them.

The customer asks for a person and then about an order; the agent finds the queue entry, opens it,
switches to assist mode, and clicks the top suggestion, which the customer's widget shows as the
agent's message. An edited suggestion is recorded as edited; a frontline agent's promise of more
compensation than the limit is refused and never reaches the customer.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import Order
from shop.signing import conversation_id_for
from tests.browser.test_agent_console import agent_page, sign_in_agent  # noqa: F401 - fixture
from tests.browser.test_widget import open_chat, open_shop, shop_db

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CUSTOMER_ID = 5


def shipped_order(shop_stack):
    engine = shop_db(shop_stack)
    with Session(engine) as session:
        number = session.execute(
            select(Order.order_number)
            .where(Order.customer_id == CUSTOMER_ID, Order.state.in_(("shipped", "delivered")))
            .order_by(Order.created_at.desc())
        ).scalar()
    engine.dispose()
    assert number, "the demo shop has no shipped order for the test customer"
    return number


def tell(page, text):
    """The customer writes while a person holds the conversation (the bot stays quiet)."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(text)
    expect(page.locator("#chat-widget")).to_have_attribute("data-pending", "0")


def test_agent_sends_the_top_suggestion_and_an_edited_one(page, agent_page, shop_stack):  # noqa: F811
    number = shipped_order(shop_stack)
    conversation = conversation_id_for(CUSTOMER_ID, shop_stack.settings.signing_key)
    open_shop(page, shop_stack)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    expect(page.locator("[data-testid=signed-in]")).to_be_visible()
    open_chat(page)
    tell(page, "转人工")

    sign_in_agent(agent_page, shop_stack.settings.web_url)
    entry = agent_page.locator(f"#queue li[data-conversation='{conversation}']")
    expect(entry.locator("[data-reason=customer_request]")).to_be_visible()
    entry.locator("button").click()
    agent_page.click("#assist-mode")
    expect(agent_page.locator("#conv-mode")).to_have_attribute("data-mode", "assist")

    tell(page, f"帮我查下订单 {number} 到哪了")
    suggestions = agent_page.locator("#suggestions li.sugg")
    expect(suggestions.first).to_be_visible(timeout=30_000)
    assert suggestions.count() >= 3
    top = suggestions.first
    expect(top).to_have_attribute("data-source", "bot")
    expect(top.locator(".sugg-confidence")).to_contain_text("%")
    top_text = top.locator(".sugg-text").inner_text()
    assert number in top_text
    top.locator(".sugg-send").click()
    agent_line = page.locator("#chat-log .msg-agent .msg-text").last
    expect(agent_line).to_have_text(top_text)
    expect(agent_page.locator("#suggestions-box")).to_be_hidden()

    tell(page, "有赠品吗")
    expect(suggestions.first).to_be_visible(timeout=30_000)
    first = suggestions.first.locator(".sugg-text").inner_text()
    suggestions.first.locator(".sugg-edit").click()
    expect(agent_page.locator("#agent-input")).to_have_value(first)
    edited = first + "（已为您备注）"
    agent_page.fill("#agent-input", edited)
    agent_page.press("#agent-input", "Control+Enter")
    expect(page.locator("#chat-log .msg-agent .msg-text").last).to_have_text(edited)

    agent_page.fill("#agent-input", "给您补偿200元，实在抱歉")
    agent_page.press("#agent-input", "Control+Enter")
    expect(agent_page.locator("#agent-status")).to_have_text("超出您的补偿权限，请转主管处理")
    expect(page.locator("#chat-log .msg-agent .msg-text").last).to_have_text(edited)

    agent_page.click("#take-over")  # human mode: the agent writes, the suggestions wait folded
    expect(agent_page.locator("#conv-mode")).to_have_attribute("data-mode", "human")
    tell(page, "包邮吗")
    toggle = agent_page.locator("#suggestions-toggle")
    expect(toggle).to_contain_text("查看机器人建议", timeout=30_000)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(suggestions.first).to_be_hidden()
    folded_for = agent_page.locator("#suggestions-box").get_attribute("data-message")

    def shown_for(message_id):
        return [
            e
            for e in shop_stack.tracker(conversation)["events"]
            if e["event"] == "agent" and (e.get("data") or {}).get("for_message") == message_id
        ]

    assert shown_for(folded_for) == []  # folded suggestions were not shown to anyone
    toggle.click()
    expect(suggestions.first).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for _ in range(50):
        if shown_for(folded_for):
            break
        agent_page.wait_for_timeout(100)
    assert shown_for(folded_for)[0]["data"]["assist"] == "shown"

    events = shop_stack.tracker(conversation)["events"]
    sent = {
        e["text"]: e["metadata"]["assist"]
        for e in events
        if e["event"] == "bot" and e.get("metadata", {}).get("sender") == "agent" and e.get("text")
    }
    assert sent[top_text]["decision"] == "accepted" and sent[top_text]["rank"] == 1
    assert sent[edited]["decision"] == "edited"
    assert sent[edited]["edit_distance"] == len("（已为您备注）")
    assert not any("200元" in text for text in sent)

    agent_page.click("a[href='/agent/metrics']")
    expect(agent_page.locator("h1")).to_contain_text("辅助回复指标")
    expect(agent_page.locator("[data-metric=top1_rate]")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(agent_page.locator("[data-metric=edit_rate]")).not_to_have_text("—")
    assert agent_page.locator("a[href='/agent/metrics.csv']").count() == 1
