"""Filling placeholders never lets a gap or a stray None/null through."""

import pytest

from bot.nlg.template import MissingFact, TemplateSyntaxLeft, fill


@pytest.mark.parametrize(
    "text, facts",
    [
        ("现价{price}元", {"price": "None"}),  # CJK around it: \bNone\b would miss this
        ("库存{stock}件", {"stock": "null"}),
        ("None元起", {}),
        ("订单 {order_id}", {"order_id": "None"}),
        ("价格：{price}", {"price": "{price}"}),
    ],
)
def test_a_leaked_none_or_null_is_refused(text, facts):
    with pytest.raises(TemplateSyntaxLeft):
        fill(text, facts)


def test_none_inside_a_latin_word_is_not_a_leak():
    assert (
        fill("{product}到货", {"product": "Nonesuch nullable 套装"}) == "Nonesuch nullable 套装到货"
    )


def test_a_missing_or_empty_fact_is_reported_by_name():
    with pytest.raises(MissingFact) as missing:
        fill("{a}{b}{c}", {"a": "1", "b": None, "c": " "})
    assert missing.value.names == ["b", "c"]
