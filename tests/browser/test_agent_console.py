"""The agent console and the customer's widget in two browser contexts against the real stack.

The customer asks for a person; the agent signs in, finds the conversation in the queue with its
reason, opens it, takes it over and writes; the customer's widget shows the notice and the
agent's message. Markup from the customer stays text in the console, and the customer's browser
cannot use the console's endpoints.
"""

import json

import pytest
import yaml
from playwright.sync_api import expect

from bot.agent.modes import NOTICES as NOTICES_FILE
from shop.signing import conversation_id_for
from tests.browser import agent_routes
from tests.browser.test_widget import open_chat, open_shop, say

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CUSTOMER_ID = 4
MARKUP = "<img src=x onerror=alert(1)>"
AGENT_TEXT = "您好，我是人工客服，马上帮您处理"
NOTICES = yaml.safe_load(NOTICES_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def agent_page(new_context):
    """A second, separate browser profile for the agent (screenshotted when the test fails)."""
    return new_context().new_page()


def sign_in_agent(page, base, username="agent", password="agent-demo"):
    page.goto(base + "/agent")
    for field in ("agent-username", "agent-password"):
        assert page.locator(f"label[for={field}]").count() == 1
    page.fill("#agent-username", username)
    page.fill("#agent-password", password)
    page.press("#agent-password", "Enter")
    expect(page.locator("[data-testid=agent-name]")).to_be_visible()


def test_agent_takes_over_and_the_customer_sees_the_message(page, agent_page, shop_stack):
    base = shop_stack.settings.web_url
    conversation = conversation_id_for(CUSTOMER_ID, shop_stack.settings.signing_key)
    dialogs = []
    agent_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    open_shop(page, shop_stack)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    expect(page.locator("[data-testid=signed-in]")).to_be_visible()
    open_chat(page)
    say(page, MARKUP)
    say(page, "转人工")

    sign_in_agent(agent_page, base)
    entry = agent_page.locator(f"#queue li[data-conversation='{conversation}']")
    expect(entry.locator("[data-reason=customer_request]")).to_have_text("顾客要求人工")
    expect(entry.locator(".conv-wait")).to_contain_text("已等")
    entry.locator("button").focus()  # keyboard only: open, take over, write, send
    agent_page.keyboard.press("Enter")

    transcript = agent_page.locator("#transcript")
    customer_lines = transcript.locator(".line-customer .line-text")
    expect(customer_lines.filter(has_text=MARKUP)).to_have_count(1)
    expect(transcript.locator(".line-customer .nlu-intent").last).to_have_text("request_human")
    assert agent_page.locator("#transcript img").count() == 0
    expect(agent_page.locator("#profile .profile-facts")).to_contain_text("会员等级")

    agent_page.focus("#take-over")
    agent_page.keyboard.press("Enter")
    expect(agent_page.locator("#conv-mode")).to_have_attribute("data-mode", "human")
    joined = NOTICES["agent_joined"].format(agent="客服小蜜")
    expect(page.locator("#chat-log .msg-notice .msg-text").last).to_have_text(joined)
    expect(agent_page.locator(f"#queue li[data-conversation='{conversation}']")).to_have_count(0)

    expect(agent_page.locator("#agent-input")).to_be_focused()
    assert agent_page.locator("label[for=agent-input]").count() == 1
    agent_page.fill("#agent-input", AGENT_TEXT)
    agent_page.press("#agent-input", "Control+Enter")
    agent_message = page.locator("#chat-log .msg-agent").last
    expect(agent_message.locator(".msg-text")).to_have_text(AGENT_TEXT)
    expect(agent_message.locator(".msg-agent-name")).to_have_text("人工客服 · 客服小蜜")
    expect(transcript.locator(".line-agent .line-text").last).to_have_text(AGENT_TEXT)

    # while a person has the conversation, the bot records the customer but does not answer
    say_while_paused = "好的谢谢"
    bots_before = page.locator("#chat-log .msg-bot").count()
    page.fill("#chat-input", say_while_paused)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-widget")).to_have_attribute("data-pending", "0")
    expect(customer_lines.last).to_have_text(say_while_paused)
    assert page.locator("#chat-log .msg-bot").count() == bots_before

    agent_page.click("#hand-back")
    expect(agent_page.locator("#conv-mode")).to_have_attribute("data-mode", "auto")
    back = NOTICES["bot_back"]
    expect(page.locator("#chat-log .msg-notice .msg-text").last).to_have_text(back)

    # the active conversations are found by what the customer wrote
    agent_page.fill("#active-query", "轉人工")  # Traditional finds Simplified
    found = agent_page.locator(f"#active li[data-conversation='{conversation}']")
    expect(found).to_have_count(1)
    expect(agent_page.locator("#active-page")).to_have_text("第 1 / 1 页")
    agent_page.fill("#active-query", "没有人说过这句话")
    expect(agent_page.locator("#active-empty")).to_be_visible()
    expect(found).to_have_count(0)

    tracker = shop_stack.tracker(conversation)
    kinds = [e["event"] for e in tracker["events"]]
    assert "pause" in kinds and "resume" in kinds
    sent = [e for e in tracker["events"] if e["event"] == "bot" and e.get("text") == AGENT_TEXT]
    assert sent and sent[0]["metadata"]["sender"] == "agent"
    assert dialogs == []


def test_the_customers_browser_cannot_use_the_agent_endpoints(page, agent_page, shop_stack):
    open_shop(page, shop_stack)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    expect(page.locator("[data-testid=signed-in]")).to_be_visible()
    conversation = conversation_id_for(CUSTOMER_ID, shop_stack.settings.signing_key)
    open_chat(page)
    secret = "只有客服能看到的问题：还有货吗"
    say(page, secret)
    calls = [
        {
            "method": method,
            "path": path.replace("<conversation_id>", conversation)
            + agent_routes.QUERIES.get(path, ""),
            "body": body,
        }
        for method, path, body in agent_routes.GUARDED
    ]
    answers = page.evaluate(
        """async (calls) => {
            const answers = [];
            for (const call of calls) {
                const started = performance.now();
                const options = {method: call.method, credentials: "same-origin"};
                if (call.method === "POST") {
                    options.headers = {"Content-Type": "application/json", "X-Agent-Console": "1"};
                    options.body = JSON.stringify(call.body);
                }
                const response = await fetch(call.path, options);
                answers.push({
                    path: call.path,
                    status: response.status,
                    type: response.headers.get("Content-Type") || "",
                    text: await response.text(),
                    ms: performance.now() - started,
                });
            }
            return answers;
        }""",
        calls,
    )
    assert len(answers) == len(agent_routes.GUARDED) >= 11
    for answer in answers:
        where = (answer["path"], answer["status"], answer["text"][:200])
        assert answer["status"] in (401, 403), where
        assert conversation not in answer["text"] and secret not in answer["text"], where
        assert answer["ms"] < 10_000, where  # the long poll refuses at once, it does not wait
        if answer["path"] == "/agent/metrics":  # a page: the sign-in form, no figures
            assert "text/html" in answer["type"] and 'id="agent-signin"' in answer["text"], where
            assert "辅助回复指标" not in answer["text"], where
        else:
            assert "application/json" in answer["type"], where
            assert set(json.loads(answer["text"])) == {"error"}, where

    page.goto(shop_stack.settings.web_url + "/agent")  # the sign-in form, not the console
    expect(page.locator("#agent-signin")).to_be_visible()
    assert page.locator("#queue").count() == 0

    agent_page.goto(shop_stack.settings.web_url + "/agent")  # a trainer may not use the console
    agent_page.fill("#agent-username", "trainer")
    agent_page.fill("#agent-password", "trainer-demo")
    agent_page.press("#agent-password", "Enter")
    expect(agent_page.locator("[data-testid=signin-error]")).to_contain_text(
        "没有使用客服工作台的权限"
    )
    assert agent_page.locator("#queue").count() == 0
