"""Customer style: inferred from how they write (rules in bot/nlg/style.py), and its effect."""

import dataclasses
import re

import pytest

from bot.nlg.style import adapt, infer_style
from tests.bot.nlg.conftest import context


def said(*texts):
    return [{"event": "user", "text": text} for text in texts]


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["多少钱", "直接给我最低价", "快点发货"], "dominant"),
        (["哈哈哈这个颜色太好看了吧！！", "我跟你说我超级喜欢😍"], "expressive"),
        (["好纠结啊不知道选哪个", "你觉得哪个好"], "amiable"),
        (["这款功率多少瓦", "和另一款的参数对比一下", "保修条款具体是什么"], "analytical"),
        (["這款功率多少瓦", "規格參數對比一下"], "analytical"),
        (["你好", "有货吗"], None),
        (["多少钱", "你觉得哪个好"], None),
        (["/greet", "/ask_stock"], None),
    ],
)
def test_style_is_inferred_only_from_enough_evidence(texts, expected):
    assert infer_style(said(*texts)) == expected


def test_only_the_last_eight_messages_count():
    old = ["参数", "对比", "具体数据"]
    assert infer_style(said(*old)) == "analytical"
    assert infer_style(said(*old, *["嗯"] * 8)) is None


FRAMES = {
    "expressive": {"before": "问得好！"},
    "amiable": {"after": "我帮您挑。"},
    "analytical": {"after": "以政策为准。"},
}


def test_no_style_leaves_the_text_alone():
    assert adapt("原文。", "utter_product_info", None, FRAMES, {}) == "原文。"


def test_dominant_gets_the_price_first_and_the_short_answer():
    text = "亲，这款现价3299元，可选：标准款。还有哪里想了解的，随时问我~"
    short = adapt(text, "utter_product_info", "dominant", FRAMES, {"price_yuan": "3299"})
    assert short == "¥3299｜亲，这款现价3299元，可选：标准款。"


def test_expressive_amiable_analytical_frames():
    assert adapt("答。", "utter_stock_available", "expressive", FRAMES, {}) == "问得好！答。"
    assert adapt("答。", "utter_stock_available", "amiable", FRAMES, {}) == "答。我帮您挑。"
    assert adapt("答。", "utter_refund_done", "amiable", FRAMES, {}) == "答。"
    assert adapt("答。", "utter_refund_done", "analytical", FRAMES, {}) == "答。以政策为准。"


@pytest.mark.parametrize("response", ["utter_greet", "utter_ask_order_id", "utter_notice_delay"])
def test_greetings_questions_and_notices_keep_their_wording(response):
    for style in ("dominant", "expressive", "amiable", "analytical"):
        assert adapt("原文~", response, style, FRAMES, {"amount": "1"}) == "原文~"


def test_each_persona_frames_in_its_own_voice(renderer, facts):
    texts = {
        persona: renderer.render_response(
            "utter_product_info", context(persona, style="expressive", facts=facts)
        )["text"]
        for persona in ("master", "crazy", "advisor")
    }
    assert texts["master"].startswith("主人眼光真是太好啦！")
    assert texts["crazy"].startswith("啊啊啊宝子")
    assert texts["advisor"].startswith("您的问题问到了关键处。")


def test_an_expressive_customer_is_acknowledged_once_not_every_reply(renderer, facts):
    first = renderer.render_response(
        "utter_product_info", context("master", style="expressive", facts=facts)
    )["text"]
    assert first.startswith("主人眼光真是太好啦！")
    later = dataclasses.replace(
        context("master", style="expressive", facts=facts), recent_bot_texts=(first,)
    )
    again = renderer.render_response("utter_product_info", later)["text"]
    assert not again.startswith("主人眼光真是太好啦！")
    assert again in first


def bot_asks(response, text="？"):
    return [
        {"event": "action", "name": response},
        {"event": "bot", "text": text, "metadata": {"utter_action": response}},
        {"event": "action", "name": "action_listen"},
    ]


def user(text, intent="ask_stock", entities=()):
    parse = {"intent": {"name": intent}, "entities": list(entities)}
    return {"event": "user", "text": text, "parse_data": parse}


def entity(name, text, value):
    start = text.index(value)
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}


def test_answers_to_the_assistants_questions_do_not_make_a_customer_dominant():
    form_answers = [
        *bot_asks("utter_ask_city"),
        user("杭州", "book_installation"),
        *bot_asks("utter_ask_date"),
        user("周六上午", "book_installation"),
        *bot_asks("utter_ask_exchange_size"),
        user("XL", "request_exchange"),
    ]
    assert infer_style(form_answers) is None
    # the same words as questions of their own still count
    assert infer_style(said("杭州", "周六上午", "XL")) == "dominant"


def test_messages_in_an_active_form_or_read_as_inform_do_not_count():
    events = [
        {"event": "active_loop", "name": "exchange_form"},
        user("黑色", "request_exchange"),
        user("大一码", "request_exchange"),
        {"event": "active_loop", "name": None},
        user("L码", "inform"),
        user("蓝色", "inform"),
    ]
    assert infer_style(events) is None


def test_entity_values_are_not_how_the_customer_writes():
    short = [
        user(t, "ask_product_info", [entity("color", t, t)]) for t in ("黑色", "白色", "燕麦色")
    ]
    assert infer_style(short) is None
    sizes = [
        user(t, "ask_size_advice", [entity("height", t, h), entity("weight", t, w)])
        for t, h, w in (
            ("我165cm 55kg穿什么码", "165cm", "55kg"),
            ("170cm 60kg呢", "170cm", "60kg"),
        )
    ]
    assert infer_style(sizes) is None
    # a decisive cue next to an entity still counts
    text = "方太油烟机多少钱"
    priced = [user(text, "ask_product_info", [entity("product", text, "方太油烟机")])] * 2
    assert infer_style(priced) == "dominant"


def test_dominant_skips_leading_sentences_without_facts():
    text = "宝子对不起！！「白色 XL」改不了！！有货的款式：焦糖色 L，改哪个？！"
    short = adapt(
        text,
        "utter_modify_spec_unavailable",
        "dominant",
        FRAMES,
        {"requested_variant": "白色 XL", "in_stock_variants": "焦糖色 L"},
        used={"requested_variant", "in_stock_variants"},
    )
    assert short == "「白色 XL」改不了！！有货的款式：焦糖色 L，改哪个？！"
    no_facts = adapt(
        "宝子！！厨电按型号整机保修，保修期内免费修！！型号告诉我！！",
        "utter_warranty",
        "dominant",
        FRAMES,
        {},
        used=set(),
    )
    assert no_facts == "厨电按型号整机保修，保修期内免费修！！"


def test_the_short_answer_keeps_a_fact_for_every_persona_and_response(
    renderer, domain_responses, facts
):
    """Every persona × response under a dominant customer, with realistic facts."""
    from bot.nlg.personas import PERSONA_IDS
    from bot.nlg.template import placeholders

    checked = 0
    for persona_id in PERSONA_IDS:
        persona = renderer.store.get(persona_id)
        for name in domain_responses:
            variants = persona.responses.get(name) or domain_responses[name]
            used = set().union(*(placeholders(v.get("text", "")) for v in variants))
            full = renderer.render_response(name, context(persona_id, facts=facts))["text"]
            short = renderer.render_response(
                name, context(persona_id, style="dominant", facts=facts)
            )["text"]
            core = short.split("｜", 1)[1] if short.startswith("¥") else short
            values = [str(facts[f]) for f in used if str(facts[f]) in full]
            if values:
                checked += 1
                assert any(v in core for v in values), (persona_id, name, short)
            if core != full:
                letters = len(re.findall(r"[^\W_]", core))
                assert letters >= 8, (persona_id, name, short)  # never just an interjection
    assert checked > 500


def test_the_short_answer_still_says_there_is_no_free_shipping_card(renderer, facts):
    """A dominant customer asking whether their card is still valid is told they have none."""
    from bot.nlg.personas import PERSONA_IDS

    for persona_id in PERSONA_IDS:
        for style in (None, "dominant"):
            text = renderer.render_response(
                "utter_membership_status", context(persona_id, style=style, facts=facts)
            )["text"]
            assert re.search(r"(没有|暂无)包邮卡", text), (persona_id, style, text)


def test_praise_goes_only_in_front_of_presale_answers():
    assert adapt("答。", "utter_product_info", "expressive", FRAMES, {}) == "问得好！答。"
    for response in (
        "utter_refund_rejected",
        "utter_complaint_options",
        "utter_quality_issue_photo",
    ):
        assert adapt("答。", response, "expressive", FRAMES, {}) == "答。"
