"""Homophone typos of the shop's key words: put right where meant, left alone where not."""

import pytest

from shop.text.details import read_details
from shop.text.homophones import correct_homophones


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("我的快地到那了", "我的快递到哪了"),
        ("为号7598", "尾号7598"),
        ("退宽什么时候到", "退款什么时候到"),
        ("我想退或", "我想退货"),
        ("有增品吗", "有赠品吗"),
        ("包由吗", "包邮吗"),
    ],
)
def test_a_sound_alike_typo_becomes_the_shop_word(typed: str, meant: str) -> None:
    assert correct_homophones(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "我要发火了",  # a word of its own
        "五六天了",
        "保佑快点到",
        "有会员价吗",  # 有会 sounds like 优惠, but 会 belongs to 会员
        "送到那边",
        "越快越好 要快的",  # a particle is not a typo
        "尾号为1234",
        "您好 在吗",
        "",
        "order 2026120728196",
    ],
)
def test_what_the_customer_meant_is_left_alone(text: str) -> None:
    assert correct_homophones(text) == text


def test_the_length_never_changes() -> None:
    text = "亲 我的快地到那了 单号2026120728196 为号7598 😭"
    assert len(correct_homophones(text)) == len(text)


def test_a_tail_after_a_misspelt_tail_word_is_read_as_the_tail() -> None:
    assert read_details("为号7598").phone_tails == ("7598",)
    assert read_details("编号7598").phone_tails == ()  # four digits after another word are not
