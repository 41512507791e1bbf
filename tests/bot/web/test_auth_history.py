from bot.web import auth
from bot.web.history import visible_messages
from shop.signing import conversation_id_for, read_chat_signature

KEY = "test-signing-key"
SECRET = "5e" * 32


def test_cookie_round_trip_names_the_customer_and_its_sign_out_generation():
    value = auth.make_cookie(7, KEY, generation=3, now=1_000_000)
    assert auth.read_cookie(value, KEY, now=1_000_100) == auth.SignedIn(7, 3)
    assert auth.read_cookie(auth.make_cookie(7, KEY, now=1_000_000), KEY, now=1_000_100) == (
        auth.SignedIn(7, 0)
    )


def test_forged_moved_or_expired_cookies_are_anonymous():
    value = auth.make_cookie(7, KEY, now=1_000_000)
    customer, issued, generation, mac = value.split(".")
    assert auth.read_cookie(f"8.{issued}.{generation}.{mac}", KEY, now=1_000_100) is None
    # a cookie from before a sign-out cannot be lifted to the current generation
    assert auth.read_cookie(f"7.{issued}.1.{mac}", KEY, now=1_000_100) is None
    assert auth.read_cookie(value, "another-key", now=1_000_100) is None
    assert auth.read_cookie(value + "0", KEY, now=1_000_100) is None
    assert auth.read_cookie(value, KEY, now=1_000_000 + auth.MAX_AGE_SECONDS + 1) is None
    assert auth.read_cookie("", KEY) is None
    assert auth.read_cookie(None, KEY) is None
    # the chat signature of the same customer is not a valid cookie
    sig = auth.chat_identity(7, KEY, now=1_000_000)["custom_data"]["customer_sig"]
    assert auth.read_cookie(f"7.{sig}", KEY, now=1_000_100) is None


def test_chat_identity_signs_the_customer_time_and_conversation():
    identity = auth.chat_identity(7, KEY, generation=2, now=1_000_000)
    assert identity["session_id"] == conversation_id_for(7, KEY)
    custom = identity["custom_data"]
    assert custom["customer_id"] == 7 and custom["customer_sig"].startswith("1000000.2.")
    found = read_chat_signature(custom, identity["session_id"], KEY, now=1_000_100)
    assert (found.customer_id, found.generation, found.issued) == (7, 2, 1_000_000)
    # bound to its conversation: worthless in another one
    assert read_chat_signature(custom, conversation_id_for(8, KEY), KEY, now=1_000_100) is None


def test_anonymous_conversations_belong_to_the_secret_that_hashes_to_them():
    own = auth.anonymous_session_id(SECRET)
    assert auth.ANONYMOUS_ID.match(own) and own != auth.anonymous_session_id("6f" * 32)
    assert auth.owns_anonymous(own, SECRET)
    assert not auth.owns_anonymous(own, None) and not auth.owns_anonymous(own, "6f" * 32)
    for bad in (None, "", "5E" * 32, SECRET[:-1], SECRET + "0", 42, own):
        assert auth.anonymous_session_id(bad) is None


def test_history_only_for_own_conversation():
    own = conversation_id_for(7, KEY)
    other = conversation_id_for(8, KEY)
    anonymous = auth.anonymous_session_id(SECRET)
    assert auth.may_read_history(own, 7, KEY)
    assert not auth.may_read_history(other, 7, KEY)
    assert not auth.may_read_history(own, None, KEY)
    assert auth.may_read_history(anonymous, None, KEY, SECRET)
    assert auth.may_read_history(anonymous, 7, KEY, SECRET)
    # knowing an anonymous conversation's id is not enough any more
    assert not auth.may_read_history(anonymous, None, KEY)
    assert not auth.may_read_history(anonymous, None, KEY, "6f" * 32)
    for refused in ("me", "test-123", "a-xyz", anonymous + "0", "", "../status"):
        assert not auth.may_read_history(refused, None, KEY, SECRET)


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


def test_the_persona_in_effect_is_that_of_the_latest_rendered_reply():
    from bot.web.history import latest_persona

    chose_by_typing = [
        {"event": "bot", "text": "主人好呀", "metadata": {"persona": "master"}},
        {"event": "user", "text": "我要疯癫组的客服"},
        {"event": "slot", "name": "persona", "value": "crazy"},
        {"event": "bot", "text": "宝子！！", "metadata": {"persona": "crazy"}},
        {"event": "bot", "text": "人工客服已接入", "metadata": {"sender": "system"}},
    ]
    assert latest_persona(chose_by_typing) == "crazy"
    assert latest_persona([{"event": "bot", "text": "hi", "metadata": {}}]) is None
    assert latest_persona([]) is None
