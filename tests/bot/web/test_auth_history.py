from bot.web import auth
from bot.web.history import visible_messages
from shop.signing import conversation_id_for, sign_customer_id

KEY = "test-signing-key"


def test_cookie_round_trip_names_the_customer():
    value = auth.make_cookie(7, KEY, now=1_000_000)
    assert auth.read_cookie(value, KEY, now=1_000_100) == 7


def test_forged_moved_or_expired_cookies_are_anonymous():
    value = auth.make_cookie(7, KEY, now=1_000_000)
    customer, issued, mac = value.split(".")
    assert auth.read_cookie(f"8.{issued}.{mac}", KEY, now=1_000_100) is None
    assert auth.read_cookie(value, "another-key", now=1_000_100) is None
    assert auth.read_cookie(value + "0", KEY, now=1_000_100) is None
    assert auth.read_cookie(value, KEY, now=1_000_000 + auth.MAX_AGE_SECONDS + 1) is None
    assert auth.read_cookie("", KEY) is None
    assert auth.read_cookie(None, KEY) is None
    # the chat signature of the same customer is not a valid cookie MAC
    assert auth.read_cookie(f"7.{issued}.{sign_customer_id(7, KEY)}", KEY, now=1_000_100) is None


def test_chat_identity_is_what_the_action_server_verifies():
    identity = auth.chat_identity(7, KEY)
    assert identity["session_id"] == conversation_id_for(7, KEY)
    assert identity["custom_data"] == {"customer_id": 7, "customer_sig": sign_customer_id(7, KEY)}


def test_history_only_for_own_conversation():
    own = conversation_id_for(7, KEY)
    other = conversation_id_for(8, KEY)
    anonymous = "a-" + "0123456789abcdef" * 2
    assert auth.may_read_history(own, 7, KEY)
    assert not auth.may_read_history(other, 7, KEY)
    assert not auth.may_read_history(own, None, KEY)
    assert auth.may_read_history(anonymous, None, KEY)
    assert auth.may_read_history(anonymous, 7, KEY)
    for refused in ("me", "test-123", "a-xyz", anonymous + "0", "", "../status"):
        assert not auth.may_read_history(refused, None, KEY)


def test_visible_messages_keep_texts_buttons_and_cards_but_not_commands():
    card = {"card": "order", "order_id": "2024112300123", "status": "shipped"}
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "/greet"},
        {"event": "bot", "text": "亲，在的~", "data": {}},
        {"event": "user", "text": "<img src=x onerror=alert(1)>"},
        {
            "event": "bot",
            "text": "您是想问哪个？",
            "data": {"buttons": [{"title": "查订单", "payload": "/check_order_status"}]},
        },
        {"event": "user", "text": '/choose_persona{"persona":"crazy"}'},
        {"event": "bot", "text": None, "data": {"custom": card}},
        {"event": "slot", "name": "persona", "value": "crazy"},
    ]
    assert visible_messages(events) == [
        {"role": "bot", "text": "亲，在的~"},
        {"role": "user", "text": "<img src=x onerror=alert(1)>"},
        {
            "role": "bot",
            "text": "您是想问哪个？",
            "buttons": [{"title": "查订单", "payload": "/check_order_status"}],
        },
        {"role": "bot", "text": "", "custom": card},
    ]


def test_persona_picker_labels_come_from_the_persona_files(tmp_path):
    from bot.web.storefront import PERSONAS, persona_labels

    (tmp_path / "crazy.yml").write_text("id: crazy\nname: 疯疯癫癫组\n", encoding="utf-8")
    (tmp_path / "lady.yml").write_text(": not yaml [", encoding="utf-8")
    labels = {entry["id"]: entry["name"] for entry in persona_labels(tmp_path)}
    assert list(labels) == [pid for pid, _ in PERSONAS]
    assert labels["crazy"] == "疯疯癫癫组"
    assert labels["lady"] == dict(PERSONAS)["lady"]  # unreadable file: the built-in label
    assert labels["default"] == dict(PERSONAS)["default"]  # no file


def test_staff_messages_keep_their_sender_after_a_reload():
    events = [
        {"event": "bot", "text": "客服小蜜已加入", "metadata": {"sender": "system"}},
        {
            "event": "bot",
            "text": "您好，我来处理",
            "metadata": {"sender": "agent", "agent": "agent", "agent_name": "客服小蜜"},
        },
        {"event": "bot", "text": "亲，在的~", "metadata": {"sender": "customer?"}},
    ]
    assert visible_messages(events) == [
        {"role": "bot", "text": "客服小蜜已加入", "sender": "system"},
        {"role": "bot", "text": "您好，我来处理", "sender": "agent", "agent_name": "客服小蜜"},
        {"role": "bot", "text": "亲，在的~"},
    ]
