"""Customer style: inferred from how they write (rules in bot/nlg/style.py), and its effect."""

import dataclasses

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
