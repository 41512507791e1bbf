"""The storefront and the chat widget in Debian's chromium against the real stack.

The widget talks to Rasa's socket.io channel on another port than the page (CORS), the bot's
answers come from the seeded shop database, and what the customer sees is read from the page.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.web.auth import anonymous_session_id
from shop.db.models import Customer, Order
from shop.signing import conversation_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CUSTOMER_ID = 2
MARKUP = "<img src=x onerror=alert(1)>"


def open_shop(page: Page, shop_stack, path: str = "/") -> None:
    page.goto(shop_stack.settings.web_url + path)
    expect(page.locator("#chat-widget")).to_have_attribute("data-ready", "true")


def open_chat(page: Page) -> None:
    """Opens the widget and waits until it is connected and its greeting (or history) is shown."""
    # after a reload the widget reopens itself once ready; clicking before that races with it
    expect(page.locator("#chat-widget")).to_have_attribute("data-ready", "true")
    if page.locator("#chat-panel").is_hidden():
        page.click("#chat-launcher")
    expect(page.locator("#chat-panel")).to_be_visible()
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "online")
    expect(page.locator("#chat-log .msg-bot").first).to_be_visible()
    wait_settled(page)


def wait_settled(page: Page) -> None:
    """Waits until every message the customer sent has been answered (Rasa acknowledged it)."""
    expect(page.locator("#chat-widget")).to_have_attribute("data-pending", "0")


def say(page: Page, text: str) -> list:
    """Types a message, sends it with Enter and returns the bot texts that answered it."""
    before = page.locator("#chat-log .msg-bot").count()
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(text)
    wait_settled(page)
    expect(page.locator("#chat-log .msg-bot").nth(before)).to_be_visible()
    return page.locator("#chat-log .msg-bot").all_inner_texts()[before:]


def anonymous_session(page: Page) -> str:
    """The anonymous conversation: a hash of the secret the widget keeps (never the id itself)."""
    return anonymous_session_id(
        page.evaluate("JSON.parse(localStorage.getItem('shopChat:secret'))")
    )


def shop_db(shop_stack):
    return create_engine(f"sqlite:///{shop_stack.settings.var_dir / 'shop.db'}", future=True)


def test_storefront_lists_products_and_shows_a_product_page(page, shop_stack):
    open_shop(page, shop_stack)
    tiles = page.locator(".product-tile")
    assert tiles.count() >= 60
    first = tiles.first
    price = first.locator(".tile-price").inner_text()
    assert re.fullmatch(r"¥\d+(\.\d\d)?", price)
    first.locator("a").click()
    expect(page.locator("[data-testid=price]")).to_have_text(price)
    expect(page.locator("table.skus tbody tr").first).to_be_visible()


def test_signed_in_customer_sees_their_order_card_with_the_real_status(page, shop_stack):
    engine = shop_db(shop_stack)
    with Session(engine) as session:
        customer = session.get(Customer, CUSTOMER_ID)
        order = (
            session.execute(
                select(Order)
                .where(Order.customer_id == CUSTOMER_ID, Order.state == "shipped")
                .order_by(Order.created_at.desc())
            )
            .scalars()
            .first()
        )
        nickname = customer.nickname
        number, state = order.order_number, order.state
    engine.dispose()

    open_shop(page, shop_stack)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    expect(page.locator("[data-testid=signed-in]")).to_contain_text(nickname)
    open_chat(page)

    replies = say(page, f"帮我查下订单 {number}")
    assert not any("后四位" in reply for reply in replies), "a signed-in customer was asked"
    card = page.locator(f".card-order[data-order-id='{number}']")
    if card.count():
        expect(card.locator(".card-status")).to_have_attribute("data-status", state)
        expect(card.locator(".card-items li").first).to_be_visible()
        expect(card).to_contain_text("¥")
    else:
        pytest.fail(f"no order card for {number}; the bot said: {replies}")

    page.reload()  # the card comes back from the tracker with the history
    open_chat(page)
    expect(card.locator(".card-status")).to_have_attribute("data-status", state)

    tracker = shop_stack.tracker(conversation_id_for(CUSTOMER_ID, shop_stack.settings.signing_key))
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_events[-1]["metadata"]["customer_id"] == CUSTOMER_ID
    # the tracker keeps a proof of who sent it, never the chat signature a browser could replay
    assert "customer_sig" not in user_events[-1]["metadata"]
    assert user_events[-1]["metadata"]["customer_proof"]


def test_a_traditional_customer_gets_the_order_card_in_traditional(page, shop_stack):
    engine = shop_db(shop_stack)
    with Session(engine) as session:
        number = (
            session.execute(
                select(Order.order_number)
                .where(Order.customer_id == CUSTOMER_ID, Order.state == "shipped")
                .order_by(Order.created_at.desc())
            )
            .scalars()
            .first()
        )
    engine.dispose()
    open_shop(page, shop_stack)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    open_chat(page)
    say(page, f"幫我查詢一下訂單 {number} 的狀態")
    card = page.locator(f".card-order[data-order-id='{number}']").last  # the newest reply's
    expect(card.locator(".card-title")).to_have_text(f"訂單 {number}")
    expect(card.locator(".card-status")).to_have_text("已發貨")
    expect(card.locator(".card-facts dt").first).to_have_text("實付")


def test_crazy_persona_changes_the_voice(page, shop_stack):
    open_shop(page, shop_stack)
    open_chat(page)
    question = "包邮吗"
    before = say(page, question)
    expect(page.locator("#chat-persona option")).to_have_count(7)
    label = page.locator("#chat-persona option[value=crazy]").inner_text()
    page.select_option("#chat-persona", "crazy")
    wait_settled(page)
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(f"换成{label}的客服")

    session = anonymous_session(page)
    tracker = shop_stack.tracker(session)
    chosen = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert chosen["text"] == '/choose_persona{"persona":"crazy"}'
    assert tracker["slots"]["persona"] == "crazy"
    after = say(page, question)
    assert after != before, "the 疯癫 persona answered exactly like the default one"
    assert any("！" in reply for reply in after)  # the 疯癫 voice exclaims

    page.reload()  # the picker shows the conversation's persona, read from the tracker
    open_chat(page)
    expect(page.locator("#chat-persona")).to_have_value("crazy")


def test_a_persona_chosen_by_typing_shows_in_the_picker(page, shop_stack):
    open_shop(page, shop_stack)
    open_chat(page)
    expect(page.locator("#chat-persona")).to_have_value("default")
    say(page, "我要疯癫组的客服")
    assert shop_stack.tracker(anonymous_session(page))["slots"]["persona"] == "crazy"
    expect(page.locator("#chat-persona")).to_have_value("crazy")
    page.reload()
    open_chat(page)
    expect(page.locator("#chat-persona")).to_have_value("crazy")


def test_a_customer_who_writes_first_is_greeted_once(page, context, shop_stack):
    open_shop(page, shop_stack)
    context.set_offline(True)
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "offline")
    page.click("#chat-launcher")  # the welcome is queued, then the customer greets first
    page.fill("#chat-input", "你好 在吗")
    page.press("#chat-input", "Enter")
    context.set_offline(False)
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "online")
    wait_settled(page)
    expect(page.locator("#chat-log .msg-bot").first).to_be_visible()
    events = shop_stack.tracker(anonymous_session(page))["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["你好 在吗"]
    replies = [e for e in events if e["event"] == "bot" and e.get("text")]
    assert len(replies) == 1
    expect(page.locator("#chat-log .msg-bot")).to_have_count(1)


def test_reload_restores_history_without_greeting_again(page, shop_stack):
    open_shop(page, shop_stack)
    open_chat(page)
    greetings = page.locator("#chat-log .msg-bot").count()
    replies = say(page, "是正品吗")
    page.reload()
    expect(page.locator("#chat-widget")).to_have_attribute("data-ready", "true")
    open_chat(page)
    expect(page.locator("#chat-log .msg-user .msg-text")).to_have_text(["是正品吗"])
    texts = page.locator("#chat-log .msg-bot").all_inner_texts()
    assert texts[greetings:] == replies
    assert len(texts) == greetings + len(replies)  # no second greeting


def test_markup_in_a_message_is_shown_as_text(page, shop_stack):
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    open_shop(page, shop_stack)
    open_chat(page)
    say(page, MARKUP)
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(MARKUP)
    page.reload()
    open_chat(page)
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(MARKUP)
    assert page.locator("#chat-widget img").count() == 0
    assert dialogs == []
    assert errors == []  # no script error, no Content-Security-Policy violation


def test_messages_typed_offline_are_sent_after_reconnecting(page, context, shop_stack):
    drop_acks, lost_acks, sockets = [False], [], []

    def relay(ws):
        """Passes the widget's socket.io traffic through, losing acknowledgements on request."""
        server = ws.connect_to_server()
        sockets.append(ws)

        def to_page(message):
            if drop_acks[0] and isinstance(message, str) and message.startswith("43"):
                lost_acks.append(message)  # engine.io message + socket.io ACK
                return
            ws.send(message)

        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    open_shop(page, shop_stack)
    open_chat(page)
    context.set_offline(True)
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "offline")
    page.fill("#chat-input", "断网时发的：还有货吗")
    page.press("#chat-input", "Enter")
    queued = page.locator("#chat-log .msg-user").last
    expect(queued).to_have_attribute("data-delivery", "queued")
    expect(queued.locator(".msg-state")).to_have_text("待发送")
    context.set_offline(False)
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "online")
    wait_settled(page)
    expect(queued).to_have_attribute("data-delivery", "sent")
    session = anonymous_session(page)
    tracker = shop_stack.tracker(session)
    texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert texts.count("断网时发的：还有货吗") == 1
    assert tracker["events"][-1]["event"] in ("action", "bot", "slot", "active_loop")

    # Rasa answers, but the acknowledgement is lost with the connection: the widget keeps the
    # message and sends it again with its id; the channel drops the copy and the widget redraws
    # the log from the history, so the message and its answer are there once.
    in_flight = "刚发出去就断线了：能便宜点吗"
    drop_acks[0] = True
    page.fill("#chat-input", in_flight)
    page.press("#chat-input", "Enter")
    for _ in range(300):
        if lost_acks:
            break
        page.wait_for_timeout(100)
    assert lost_acks, "Rasa never acknowledged the message"
    expect(page.locator("#chat-log .msg-user").last).to_have_attribute("data-delivery", "sending")
    drop_acks[0] = False
    sockets[-1].close()
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "online")
    wait_settled(page)
    expect(page.locator("#chat-log .msg-user[data-delivery]")).to_have_count(0)  # redrawn
    events = shop_stack.tracker(session)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert [events[i].get("text") for i in users].count(in_flight) == 1
    answers = [e["text"] for e in events[users[-1] :] if e["event"] == "bot" and e.get("text")]
    assert events[users[-1]]["text"] == in_flight and answers
    shown = page.locator("#chat-log .msg-text")
    expect(shown.filter(has_text=in_flight)).to_have_count(1)
    expect(page.locator("#chat-log .msg-bot .msg-text").last).to_have_text(answers[-1])
    log = shown.all_inner_texts()
    assert log[log.index(in_flight) + 1 :] == answers


def test_keyboard_unread_badge_and_length_limit(page, shop_stack):
    open_shop(page, shop_stack)
    page.focus("#chat-launcher")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-input")).to_be_focused()
    expect(page.locator("#chat-widget")).to_have_attribute("data-connection", "online")
    wait_settled(page)
    page.keyboard.insert_text("多" * 520)
    expect(page.locator("#chat-input")).to_have_value("多" * 500)
    expect(page.locator("#chat-counter")).to_have_text("500/500")
    page.fill("#chat-input", "")
    expect(page.locator("#chat-counter")).to_have_text("0/500")

    page.fill("#chat-input", "能便宜点吗")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # minimise before the answer arrives
    expect(page.locator("#chat-panel")).to_be_hidden()
    expect(page.locator("#chat-launcher")).to_be_focused()
    expect(page.locator("#chat-unread")).to_be_visible()
    assert int(page.locator("#chat-unread .unread-count").inner_text()) >= 1
    page.keyboard.press("Enter")
    expect(page.locator("#chat-unread")).to_be_hidden()
    for label in ("#chat-input", "#chat-persona"):
        assert page.locator(f"label[for={label[1:]}]").count() == 1


def test_widget_fills_a_phone_screen(new_context, shop_stack):
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    open_shop(page, shop_stack)
    open_chat(page)
    box = page.locator("#chat-panel").bounding_box()
    assert box["width"] == 390 and box["height"] >= 800
    expect(page.locator("#chat-input")).to_be_in_viewport()


def test_quick_reply_buttons_send_their_payload(page, shop_stack):
    open_shop(page, shop_stack)
    open_chat(page)
    say(page, "/choose_persona")
    buttons = page.locator("#chat-quick button")
    expect(buttons).to_have_count(7)
    title = buttons.nth(5).inner_text()
    buttons.nth(5).click()
    expect(page.locator("#chat-log .msg-user .msg-text").last).to_have_text(title)
    expect(page.locator("#chat-quick button")).to_have_count(0)
    wait_settled(page)
    tracker = shop_stack.tracker(anonymous_session(page))
    sent = [e["text"] for e in tracker["events"] if e["event"] == "user"][-1]
    assert re.fullmatch(r'/choose_persona\{"persona": ?"crazy"\}', sent)


def test_a_message_the_channel_refuses_is_dropped_and_a_half_emoji_repaired(page, shop_stack):
    """Nothing stays pending for good: a kept message with half an emoji is repaired and sent,
    one that can never be sent is dropped, and one the channel refuses is marked and dropped."""

    def relay(ws):
        """Turns a marker into a lone surrogate on its way to Rasa, as a broken client would."""
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message.replace("REFUSE_ME", "\\ud83d")))

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    open_shop(page, shop_stack)
    open_chat(page)
    page.evaluate(
        """() => localStorage.setItem('shopChat:anonymous:pending', JSON.stringify([
            {id: 'kept-1', text: '半个表情\\ud83d', display: '半个表情\\ud83d'},
            {id: 'kept-2', text: {nested: 'object'}, display: '嵌套'},
            {id: 'kept-3', text: '   ', display: ''}
        ]))"""
    )
    page.reload()
    open_chat(page)
    wait_settled(page)
    session = anonymous_session(page)
    texts = [e.get("text") for e in shop_stack.tracker(session)["events"] if e["event"] == "user"]
    assert "半个表情\ufffd" in texts
    assert page.evaluate("JSON.parse(localStorage.getItem('shopChat:anonymous:pending'))") == []

    page.fill("#chat-input", "REFUSE_ME 在吗")
    page.press("#chat-input", "Enter")
    refused = page.locator("#chat-log .msg-user").last
    expect(refused).to_have_attribute("data-delivery", "failed")
    expect(refused.locator(".msg-state")).to_have_text("消息里有无法识别的字符，没有发送")
    wait_settled(page)
    assert page.evaluate("JSON.parse(localStorage.getItem('shopChat:anonymous:pending'))") == []
    page.reload()
    open_chat(page)
    expect(page.locator("#chat-widget")).to_have_attribute("data-pending", "0")
    assert say(page, "还有货吗")  # the widget still talks
