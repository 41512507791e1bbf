"""Every persona × every response: templates exist (or fall back on purpose) and render."""

import re

import pytest

from bot.nlg.personas import PERSONA_IDS
from bot.nlg.template import placeholders
from tests.bot.nlg.conftest import context

OTHERS = [p for p in PERSONA_IDS if p != "default"]


def test_every_contract_persona_has_a_file(store):
    assert set(store.ids()) == set(PERSONA_IDS)
    for persona_id in PERSONA_IDS:
        persona = store.get(persona_id)
        assert persona.id == persona_id
        assert persona.name and persona.address and persona.voice and persona.safe_default
        assert set(persona.styles) >= {"expressive", "amiable", "analytical"}


def test_default_speaks_the_domain_texts(store):
    assert store.get("default").uses_domain


@pytest.mark.parametrize("persona_id", OTHERS)
def test_no_silent_gap(store, domain_responses, persona_id):
    """Each response has a template or is listed as an explicit fallback, never neither."""
    persona = store.get(persona_id)
    gaps = [
        name
        for name in domain_responses
        if name not in persona.responses and name not in persona.fallback
    ]
    assert gaps == [], f"{persona_id} has neither a template nor a fallback entry for {gaps}"
    assert not set(persona.responses) & set(persona.fallback)
    unknown = (set(persona.responses) | set(persona.fallback)) - set(domain_responses)
    assert unknown == set(), f"{persona_id} names responses the domain does not have"


@pytest.mark.parametrize("persona_id", OTHERS)
def test_templates_only_use_facts_the_default_text_uses(store, domain_responses, persona_id):
    """So wherever the default text can be filled, the persona's can too."""
    persona = store.get(persona_id)
    for name, variants in persona.responses.items():
        allowed = set().union(*(placeholders(v["text"]) for v in domain_responses[name]))
        for variant in variants:
            assert placeholders(variant["text"]) <= allowed, (persona_id, name)


def test_every_placeholder_has_a_realistic_fact(domain_responses, facts):
    used = set()
    for variants in domain_responses.values():
        for variant in variants:
            used |= placeholders(variant.get("text", ""))
    assert sorted(used - set(facts)) == []


@pytest.mark.parametrize("persona_id", PERSONA_IDS)
def test_every_response_renders_with_realistic_facts(renderer, domain_responses, facts, persona_id):
    for name in domain_responses:
        message = renderer.render_response(name, context(persona_id, facts=facts))
        text = message["text"]
        assert text.strip(), (persona_id, name)
        assert not re.search(r"[{}]|None|null", text), (persona_id, name, text)
        used = set().union(*(placeholders(v["text"]) for v in domain_responses[name]))
        persona = renderer.store.get(persona_id)
        own = persona.responses.get(name)
        if own:
            used = set().union(*(placeholders(v["text"]) for v in own))
        for fact in used:
            assert str(facts[fact]) in text, (persona_id, name, fact)


def test_master_addresses_the_customer_as_zhuren(renderer, domain_responses, facts):
    persona = renderer.store.get("master")
    for name in domain_responses:
        default = renderer.render_response(name, context("default", facts=facts))["text"]
        text = renderer.render_response(name, context("master", facts=facts))["text"]
        if name in persona.responses or "亲" in default or "您" in default:
            assert "主人" in text, (name, text)
        assert "亲" not in text.replace("亲自", ""), (name, text)


def test_personas_differ_visibly_for_the_same_response(renderer, domain_responses, facts):
    for name in domain_responses:
        own = [p for p in OTHERS if name in renderer.store.get(p).responses]
        texts = {p: renderer.render_response(name, context(p, facts=facts))["text"] for p in own}
        default = renderer.render_response(name, context("default", facts=facts))["text"]
        for persona_id, text in texts.items():
            assert text != default, (persona_id, name)
        assert len(set(texts.values())) == len(texts), (name, texts)


def test_the_most_seen_answers_are_written_by_every_persona(store):
    """Greetings, forms, apologies and order/logistics/refund answers never fall back."""
    most_seen = [
        "utter_greet",
        "utter_goodbye",
        "utter_thank",
        "utter_handoff",
        "utter_persona_changed",
        "utter_ask_order_id",
        "utter_ask_phone_tail",
        "utter_ask_product",
        "utter_order_not_found",
        "utter_order_status_shipped",
        "utter_logistics_in_transit",
        "utter_logistics_stalled",
        "utter_refund_done",
        "utter_shop_unavailable",
        "utter_default",
        "utter_notice_shipping",
        "utter_notice_delay",
        "utter_notice_follow_up",
        "utter_notice_installation",
        "utter_notice_formula_runout",
    ]
    for persona_id in OTHERS:
        missing = [name for name in most_seen if name not in store.get(persona_id).responses]
        assert missing == [], (persona_id, missing)


def test_buttons_keep_their_payloads(renderer):
    for persona_id in PERSONA_IDS:
        message = renderer.render_response("utter_ask_persona", context(persona_id))
        payloads = [b["payload"] for b in message["buttons"]]
        assert payloads[1] == '/choose_persona{"persona": "master"}'
        assert len(payloads) == len(PERSONA_IDS)


def test_master_speaks_for_any_shop_not_a_brand(store):
    """The squirrel mascot stays; the shop sells range hoods, formula and clothes, not nuts only."""
    path = store.personas_dir / "master.yml"
    assert "松鼠家" not in path.read_text(encoding="utf-8")
    assert "鼠小二" in store.get("master").voice


APOLOGY = re.compile(r"对不起|抱歉|对不住|道歉|恕罪")
SINCERE_PREFIXES = (
    "utter_complaint_",
    "utter_ask_complaint_",
    "utter_invalid_complaint_",
    "utter_quality_",
    "utter_logistics_stalled",
    "utter_logistics_investigation",
    "utter_logistics_returned",
    "utter_installation_contact_overdue",
    "utter_order_unpaid_but_paid",
    "utter_refund_rejected",
    "utter_refund_overdue",
)
SINCERE = {"utter_shop_unavailable", "utter_notice_delay", "utter_exchange_created_photo"}
JOKES = re.compile(r"滑跪|锅|掰扯|哈哈|嘻嘻|冲鸭|啊啊啊|呜呜|绝绝子|原地转|才怪|撒花|坏了")


@pytest.mark.parametrize("persona_id", ["crazy", "spicy"])
def test_complaints_apologies_and_delays_are_sincere(renderer, domain_responses, facts, persona_id):
    persona = renderer.store.get(persona_id)
    assert "滑跪" not in persona.voice
    for name in domain_responses:
        text = renderer.render_response(name, context(persona_id, facts=facts))["text"]
        sincere = name in SINCERE or name.startswith(SINCERE_PREFIXES) or APOLOGY.search(text)
        if not sincere:
            continue
        assert len(re.findall(r"[!！]", text)) <= 1, (persona_id, name, text)
        assert not JOKES.search(text), (persona_id, name, text)
        assert persona.address in text, (persona_id, name, text)  # still recognisable


@pytest.mark.parametrize("persona_id", OTHERS)
def test_a_quality_report_is_not_admitted_before_the_photo_is_checked(renderer, facts, persona_id):
    text = renderer.render_response("utter_quality_issue_photo", context(persona_id, facts=facts))[
        "text"
    ]
    assert "照片" in text and re.search(r"核实|确认|看过", text), text
    admits = (
        r"我们的责任|是我们的问题|有问题的商品|有问题的宝贝|有瑕疵|坏货|恕罪|抱歉|对不起|对不住"
    )
    assert not re.search(admits, text), text


# The advisor's former section labels ("说明：…", "结论：…", "订单状态：…").
LABEL = re.compile(
    r"(?:^|[。；\s])(?:说明|结论|结果|核验结果|查询结果|核算结果|建议|依据|下一步|政策|要点|补充"
    r"|确认|记录|已记录|进度|状态|订单状态|物流状态|时效|到账时间|回访时间|可选方案|验证方式"
    r"|库存|赠品|保修|网点|会员信息|会员规则|价保核算|安装条件|包邮规则|发货通知|使用回访"
    r"|补货提醒|安装提醒|物流延误致歉|预约已确认|退货已登记|退款已办理|换货已登记|换货已发出"
    r"|订单已取消|地址已修改|规格已修改|发票已登记|安装已预约|抱歉|提醒)："
)


def test_the_advisor_talks_in_sentences_not_form_labels(renderer, domain_responses, facts):
    advisor = renderer.store.get("advisor")
    texts = [advisor.safe_default] + [
        frame.get("after", "") + frame.get("before", "") for frame in advisor.styles.values()
    ]
    texts += [
        renderer.render_response(name, context("advisor", facts=facts))["text"]
        for name in domain_responses
    ]
    for text in texts:
        assert not LABEL.search(text.strip()), text


@pytest.mark.parametrize("persona_id", OTHERS)
def test_every_persona_keeps_the_domains_quick_replies(
    renderer, domain_responses, facts, persona_id
):
    """Buttons are the customer's choices (slots, yes / no): no voice may drop them."""
    with_buttons = {
        name: [b["payload"] for b in next(v["buttons"] for v in variants if v.get("buttons"))]
        for name, variants in domain_responses.items()
        if any(v.get("buttons") for v in variants)
    }
    assert with_buttons, "the domain offers quick replies somewhere"
    for name, payloads in with_buttons.items():
        message = renderer.render_response(name, context(persona_id, facts=facts))
        assert [b["payload"] for b in message.get("buttons", [])] == payloads, (persona_id, name)


@pytest.mark.parametrize("persona_id", PERSONA_IDS)
def test_the_replies_customers_check_or_wait_on_say_what_they_need(renderer, facts, persona_id):
    """The tax number is repeated, the reward of one invitation said, a person offered."""
    ctx = context(persona_id, facts=facts)
    invoice = renderer.render_response("utter_invoice_requested_with_tax_number", ctx)["text"]
    assert facts["tax_number"] in invoice and facts["invoice_title"] in invoice
    for name in (
        "utter_membership_status",
        "utter_membership_status_with_card",
        "utter_membership_status_card_expired",
    ):
        text = renderer.render_response(name, ctx)["text"]
        assert f"{facts['referral_reward_yuan']}元" in text, (name, text)
    stalled = renderer.render_response("utter_logistics_stalled", ctx)
    assert "/request_human" in [b["payload"] for b in stalled.get("buttons", [])]
    assert "人工" in stalled["text"]
    for name in ("utter_ask_order_id_complaint", "utter_ask_which_order_complaint"):
        text = renderer.render_response(name, ctx)["text"]
        assert APOLOGY.search(text) and "订单号" in text, (name, text)
