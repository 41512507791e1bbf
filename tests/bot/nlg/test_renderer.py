"""The renderer on Rasa's NLG requests: persona choice, facts, cards, gaps, reloads, script."""

import logging
import os
import shutil

import pytest

from bot.nlg import script
from bot.nlg.personas import PersonaStore
from bot.nlg.profile import ProfileStyles
from bot.nlg.renderer import Renderer, RenderError
from bot.settings import ROOT
from shop.signing import PROOF_KEY, proven_metadata


def request(response, events=(), slots=None, arguments=None, latest=None):
    """An NLG request body as Rasa's CallbackNaturalLanguageGenerator sends it."""
    return {
        "response": response,
        "id": None,
        "arguments": arguments or {},
        "tracker": {
            "sender_id": "c-test",
            "slots": {"persona": "default", "customer_style": None, **(slots or {})},
            "latest_message": latest or {},
            "events": list(events),
        },
        "channel": {"name": "rest"},
    }


def user(text, **metadata):
    return {"event": "user", "text": text, "metadata": metadata, "parse_data": {}}


def chose(persona):
    return {"event": "slot", "name": "persona", "value": persona}


def test_default_persona_says_the_domain_text(store, domain_responses):
    message = Renderer(store=store).render(request("utter_greet", [user("亲在吗")]))
    assert message == {"text": domain_responses["utter_greet"][0]["text"], "persona": "default"}


def test_domain_conditions_are_honoured_for_the_default_persona(store):
    renderer = Renderer(store=store)
    body = request("utter_persona_changed", [user("换回默认"), chose("default")])
    assert renderer.render(body)["text"] == "好的亲，已切换为标准客服为您服务~"


def test_the_shop_default_persona_applies_until_the_customer_chooses(store):
    renderer = Renderer(store=store, shop_default="master")
    assert "主人" in renderer.render(request("utter_greet", [user("在吗")]))["text"]
    chosen = request("utter_greet", [user("普通客服"), chose("default")])
    assert renderer.render(chosen)["text"].startswith("亲，您好")


def test_a_persona_change_takes_effect_on_the_next_reply(store):
    renderer = Renderer(store=store)
    events = [user("你好")]
    before = renderer.render(request("utter_greet", events))["text"]
    events += [user("我要疯癫组"), chose("crazy")]
    changed = renderer.render(request("utter_persona_changed", events, slots={"persona": "crazy"}))
    after = renderer.render(request("utter_greet", events, slots={"persona": "crazy"}))["text"]
    assert "疯癫组" in changed["text"]
    assert before.startswith("亲") and "宝子" in after and "！！" in after


def test_facts_come_from_slots_and_arguments_and_the_card_becomes_custom(store):
    card = {"card": "order", "order_id": "2024112300123", "status": "paid", "total_fen": 26800}
    body = request(
        "utter_order_status_paid",
        [user("查订单"), chose("advisor")],
        slots={"persona": "advisor", "order_id": "2024112300123"},
        arguments={
            "text": None,
            "buttons": [],
            "custom": {},
            "paid_at": "2026-11-22 21:16",
            "amount": "268.00",
            "items": "方太EMD20T油烟机×1",
            "ship_by": "2026-11-23",
            "card": card,
        },
    )
    message = Renderer(store=store, strict=True).render(body)
    assert message["text"].startswith("订单 2024112300123 已于 2026-11-22 21:16 付款成功")
    assert "最晚 2026-11-23 发出" in message["text"] and message["custom"] == card
    assert "buttons" not in message


def test_a_missing_fact_is_an_error_in_tests(store):
    with pytest.raises(RenderError, match="order_id"):
        Renderer(store=store, strict=True).render(request("utter_order_status_paid"))


def test_a_missing_fact_at_run_time_gives_the_safe_sentence_and_a_log_line(store, caplog):
    renderer = Renderer(store=store)
    body = request(
        "utter_order_status_paid",
        [user("查订单"), chose("lady")],
        slots={"persona": "lady", "order_id": "2024112300123"},
        arguments={"amount": None, "items": "x", "paid_at": "2026-11-22 21:16"},
    )
    with caplog.at_level(logging.ERROR):
        message = renderer.render(body)
    assert message == {"text": store.get("lady").safe_default, "persona": "lady"}
    assert "utter_order_status_paid" in caplog.text and "amount" in caplog.text
    assert "2024112300123" not in caplog.text


def test_an_unknown_response_or_persona_still_answers(store):
    renderer = Renderer(store=store)
    assert renderer.render(request("utter_nope"))["text"] == store.get("default").safe_default
    body = request("utter_greet", [chose("pirate")], slots={"persona": "pirate"})
    assert renderer.render(body)["text"].startswith("亲，您好")


def test_external_notice_facts_come_from_the_event_entities(store):
    latest = {
        "intent": {"name": "EXTERNAL_shipping_notice"},
        "entities": [
            {"entity": "order_number", "value": "2024112300123"},
            {"entity": "goods", "value": "每日坚果礼盒"},
            {"entity": "courier", "value": "顺丰"},
            {"entity": "waybill", "value": "SF1402387766501"},
        ],
    }
    body = request("utter_notice_shipping", [chose("master")], {"persona": "master"}, None, latest)
    text = Renderer(store=store, strict=True).render(body)["text"]
    assert "鼠小箱已穿戴整齐" in text and "SF1402387766501" in text and text.startswith("主人")


def test_persona_files_are_reread_when_they_change(tmp_path, store):
    personas = tmp_path / "personas"
    shutil.copytree(ROOT / "personas", personas)
    live = Renderer(store=PersonaStore(personas, ROOT / "domain.yml"))
    body = request("utter_greet", [chose("spicy")], slots={"persona": "spicy"})
    assert live.render(body)["text"].startswith("老铁来啦")
    path = personas / "spicy.yml"
    text = path.read_text(encoding="utf-8").replace("老铁来啦！有事直说", "老铁又来啦！有事直说")
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert live.render(body)["text"].startswith("老铁又来啦")


def test_traditional_customers_get_traditional_answers(store, domain_responses):
    renderer = Renderer(store=store)
    events = [user("請問你們家賣的是正品嗎？？")]
    text = renderer.render(request("utter_authenticity", events))["text"]
    simplified = domain_responses["utter_authenticity"][0]["text"]
    assert text != simplified and "授權" in text and "親" in text
    assert script.script_of(text) == script.TRADITIONAL
    from shop.text.normalise import to_simplified

    assert to_simplified(text) == simplified


def test_the_script_is_remembered_while_the_customer_types_numbers(store):
    renderer = Renderer(store=store)
    events = [user("幫我查下訂單"), user("2024112300123")]
    text = renderer.render(request("utter_ask_phone_tail", events))["text"]
    assert "隱私" in text and "后" not in text
    events.append(user("好的，谢谢"))
    assert "隐私" in renderer.render(request("utter_ask_phone_tail", events))["text"]


def test_cards_are_in_the_customers_script_but_not_their_ids_numbers_or_urls(store):
    order = {
        "card": "order",
        "order_id": "2024112300123",
        "status": "shipped",
        "status_label": "已发货",
        "total_fen": 26800,
        "items": [{"name": "纯棉长袖卫衣", "quantity": 1, "price_fen": 26800}],
        "paid_at": "2026-11-22T21:16:00+08:00",
    }
    parcel = {
        "card": "logistics",
        "carrier": "顺丰速运",
        "tracking_number": "SF1234567890",
        "status_label": "运输中",
        "events": [{"time": "2026-11-23T08:00:00+08:00", "text": "快件已到达杭州转运中心"}],
    }
    product = {"card": "product", "product_id": 12, "name": "电热水壶", "url": "/products/12"}
    renderer = Renderer(store=store)
    traditional = [user("幫我查下訂單到哪了")]
    got = {
        c["card"]: renderer.render(request("utter_default", traditional, arguments={"card": c}))[
            "custom"
        ]
        for c in (order, parcel, product)
    }
    assert got["order"]["status_label"] == "已發貨"
    assert got["order"]["items"] == [{"name": "純棉長袖衛衣", "quantity": 1, "price_fen": 26800}]
    assert {k: got["order"][k] for k in ("order_id", "status", "total_fen", "paid_at")} == {
        k: order[k] for k in ("order_id", "status", "total_fen", "paid_at")
    }
    assert (
        got["logistics"]["carrier"] == "順豐速運" and got["logistics"]["status_label"] == "運輸中"
    )
    assert got["logistics"]["events"] == [
        {"time": "2026-11-23T08:00:00+08:00", "text": "快件已到達杭州轉運中心"}
    ]
    assert got["logistics"]["tracking_number"] == "SF1234567890"
    assert got["product"]["name"] == "電熱水壺" and got["product"]["url"] == "/products/12"
    assert all(card["script"] == "traditional" for card in got.values())
    assert order["status_label"] == "已发货"  # the action's card itself is left as it was

    simplified = [user("帮我查下订单到哪了")]
    same = renderer.render(request("utter_default", simplified, arguments={"card": order}))
    assert same["custom"] == order


def test_the_reply_names_the_persona_it_speaks_in(store):
    renderer = Renderer(store=store, shop_default="master")
    assert renderer.render(request("utter_greet", [user("在吗")]))["persona"] == "master"
    typed = [user("我要疯癫组的客服"), chose("crazy")]
    chosen = request("utter_persona_changed", typed, slots={"persona": "crazy"})
    assert renderer.render(chosen)["persona"] == "crazy"
    unknown = request("utter_greet", [user("在吗"), chose("nosuch")], slots={"persona": "nosuch"})
    assert renderer.render(unknown)["persona"] == "master"


def test_button_titles_are_converted_but_payloads_are_not(store):
    renderer = Renderer(store=store)
    message = renderer.render(request("utter_default", [user("這個問題你們能處理嗎")]))
    assert message["buttons"][0] == {"title": "轉人工客服", "payload": "/request_human"}


def test_an_actions_choices_become_buttons_in_the_customers_script(store):
    renderer = Renderer(store=store)
    choices = [
        {"title": "主管致电道歉", "payload": "主管致电道歉"},
        {"title": "转人工客服", "payload": "/request_human"},
        {"title": "", "payload": "/nothing"},
        "not a choice",
    ]
    body = request("utter_default", [user("我要投訴 態度太差了")], arguments={"choices": choices})
    buttons = renderer.render(body)["buttons"]
    assert {"title": "主管致電道歉", "payload": "主管致电道歉"} in buttons
    assert {"title": "轉人工客服", "payload": "/request_human"} in buttons
    assert all(b["payload"] != "/nothing" for b in buttons)


def test_a_signed_in_customers_profile_sets_the_style(store):
    key = "test-key"
    profiles = ProfileStyles(lookup=lambda customer_id: {7: "analytical"}.get(customer_id))
    renderer = Renderer(store=store, signing_key=key, profiles=profiles)
    proof = proven_metadata(7, "c-test", key)
    signed = user("包邮吗", **proof)
    stamp, mac = proof[PROOF_KEY].split(".")
    forged = user("包邮吗", customer_id=7, **{PROOF_KEY: f"{stamp}.{mac[::-1]}"})
    moved = user("包邮吗", **proven_metadata(7, "c-other", key))
    args = {"city": "杭州", "threshold": "99"}
    analysed = renderer.render(request("utter_free_shipping_threshold", [signed], arguments=args))
    assert analysed["text"].endswith("您可以对比后再做决定。")
    for anonymous in (forged, moved):
        body = request("utter_free_shipping_threshold", [anonymous], arguments=args)
        assert renderer.render(body)["text"] == (
            "亲，寄到杭州满99元就包邮哦，您的订单金额是多少呢？我帮您算一下~"
        )


def test_the_style_slot_wins_over_inference(store):
    renderer = Renderer(store=store)
    events = [user("哈哈哈太好看了吧！！"), user("超级喜欢！！")]
    body = request("utter_gift", events, slots={"customer_style": "amiable"})
    assert renderer.render(body)["text"].endswith("我直接帮您挑最合适的那一款~")
    assert renderer.render(request("utter_gift", events))["text"].startswith("亲问得太到位啦！")


def test_an_explicit_fallback_speaks_the_default_text_in_the_personas_address(tmp_path):
    personas = tmp_path / "personas"
    shutil.copytree(ROOT / "personas", personas)
    path = personas / "master.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [line for line in lines if not line.startswith("  utter_thank:")]
    text = "".join(lines).replace("fallback: []", "fallback: [utter_thank]")
    path.write_text(text, encoding="utf-8")
    store = PersonaStore(personas, ROOT / "domain.yml")
    body = request("utter_thank", [chose("master")], slots={"persona": "master"})
    rendered = Renderer(store=store, strict=True).render(body)["text"]
    assert rendered == "不客气主人，能帮到主人就好！还有其他问题随时喊我~"


def _touch(path):
    """Make sure the change is seen even on a coarse file-system clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda text: text.replace("responses:", "responses: [", 1),  # broken YAML
        lambda text: text.replace("safe_default:", "safe_word:", 1),  # a missing key
        lambda text: text.replace("id: spicy", "id: crazy", 1),  # another persona's id
    ],
)
def test_a_broken_persona_edit_keeps_the_last_good_version_and_logs_once(
    tmp_path, caplog, breakage
):
    personas = tmp_path / "personas"
    shutil.copytree(ROOT / "personas", personas)
    live = Renderer(store=PersonaStore(personas, ROOT / "domain.yml"))
    body = request("utter_greet", [chose("spicy")], slots={"persona": "spicy"})
    good = live.render(body)["text"]
    assert good.startswith("老铁来啦")
    path = personas / "spicy.yml"
    path.write_text(breakage(path.read_text(encoding="utf-8")), encoding="utf-8")
    _touch(path)
    with caplog.at_level(logging.ERROR, logger="bot.nlg.personas"):
        assert live.render(body)["text"] == good
        assert live.render(request("utter_thank", [chose("spicy")], {"persona": "spicy"}))
    lines = [r.getMessage() for r in caplog.records if "spicy.yml" in r.getMessage()]
    assert len(lines) == 1, lines  # once per change, not once per reply
    assert "last good version" in lines[0]
    assert any(
        kind in lines[0] for kind in ("YAMLError", "ScannerError", "ParserError", "PersonaError")
    )


def test_a_broken_domain_edit_keeps_the_default_texts(tmp_path, caplog, domain_responses):
    domain = tmp_path / "domain.yml"
    shutil.copy(ROOT / "domain.yml", domain)
    live = Renderer(store=PersonaStore(ROOT / "personas", domain))
    body = request("utter_greet", [user("在吗")])
    assert live.render(body)["text"] == domain_responses["utter_greet"][0]["text"]
    domain.write_text("responses:\n  utter_greet: [\n", encoding="utf-8")
    _touch(domain)
    with caplog.at_level(logging.ERROR, logger="bot.nlg.personas"):
        assert live.render(body)["text"] == domain_responses["utter_greet"][0]["text"]
        live.render(body)
    assert len([r for r in caplog.records if "domain.yml" in r.getMessage()]) == 1
    domain.write_text("version: '3.1'\nintents: [greet]\n", encoding="utf-8")  # no responses
    _touch(domain)
    assert live.render(body)["text"] == domain_responses["utter_greet"][0]["text"]


def test_a_persona_broken_since_start_up_falls_back_to_the_shop_default(tmp_path):
    personas = tmp_path / "personas"
    shutil.copytree(ROOT / "personas", personas)
    (personas / "lady.yml").write_text("id: lady\nname: [\n", encoding="utf-8")
    live = Renderer(store=PersonaStore(personas, ROOT / "domain.yml"), shop_default="master")
    body = request("utter_greet", [chose("lady")], slots={"persona": "lady"})
    assert live.render(body)["text"].startswith("主人")


def test_an_unknown_persona_falls_back_to_the_shops_default_persona(store):
    renderer = Renderer(store=store, shop_default="master")
    body = request("utter_greet", [chose("pirate")], slots={"persona": "pirate"})
    assert renderer.render(body)["text"] == store.get("master").responses["utter_greet"][0]["text"]
    misconfigured = Renderer(store=store, shop_default="pirate")
    assert misconfigured.render(body)["text"].startswith("亲，您好")
