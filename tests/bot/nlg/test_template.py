"""Filling placeholders never lets a gap or a stray None/null through, nor hides what was typed."""

import pytest

from bot.nlg.template import MissingFact, TemplateSyntaxLeft, fill


@pytest.mark.parametrize(
    "text, facts",
    [
        ("现价None元", {}),  # CJK around it: \bNone\b would miss this
        ("库存null件，{product}", {"product": "台灯"}),
        ("None元起", {}),
        ("订单 {order_id}}", {"order_id": "A1"}),
        ("价格：{}", {}),
        ("价格：{price}", {"price": [None]}),  # a fact that is not text shows None
        ("规格：{spec}", {"spec": {"颜色": "白"}}),  # ... or braces
    ],
)
def test_a_template_leftover_or_a_leak_from_a_fact_that_is_not_text_is_refused(text, facts):
    with pytest.raises(TemplateSyntaxLeft):
        fill(text, facts)


@pytest.mark.parametrize(
    "said",
    ["{name}的裤子开线了", "客服说{…}然后就不理我了", "None 就是你们给我的回复", "{}", "null"],
)
def test_what_the_customer_wrote_is_shown_as_written(said):
    assert fill("您反馈的是「{description}」，对吗？", {"description": said}) == (
        f"您反馈的是「{said}」，对吗？"
    )


def test_numbers_are_formatted_like_rasa():
    assert fill("共{count}件，¥{amount}", {"count": 3, "amount": 12.5}) == "共3件，¥12.5"


def test_none_inside_a_latin_word_is_not_a_leak():
    assert (
        fill("{product}到货", {"product": "Nonesuch nullable 套装"}) == "Nonesuch nullable 套装到货"
    )
    assert fill("Nonesuch 到货", {}) == "Nonesuch 到货"


def test_a_missing_or_empty_fact_is_reported_by_name():
    with pytest.raises(MissingFact) as missing:
        fill("{a}{b}{c}", {"a": "1", "b": None, "c": " "})
    assert missing.value.names == ["b", "c"]
