"""Readings of a whole message beside the names: "do you sell X" and "this one"."""

import pytest

from shop.repository.product_match import refers_to_this, sold_question_subject


@pytest.mark.parametrize(
    "text,thing",
    [
        ("你们家有卖空气炸锅吗", "空气炸锅"),
        ("有没有卖那种电饭煲", "电饭煲"),
        ("卖不卖扫地机器人", "扫地机器人"),
        ("你们卖不卖空气炸锅", "空气炸锅"),
        ("你们有空气炸锅卖吗", "空气炸锅"),
        ("有卖不粘锅吗", "不粘锅"),
        ("你們家有賣 空氣炸鍋 嗎？", "空气炸锅"),  # Traditional, spaces, full-width mark
    ],
)
def test_the_thing_of_a_do_you_sell_question(text, thing):
    assert sold_question_subject(text) == thing


@pytest.mark.parametrize(
    "text",
    [
        "还有卖的吗",
        "这个卖多少钱",
        "T7卖多少钱",
        "有没有卖完",
        "你们这边有卖什么",
        "现在有卖吗",
        "这个有卖黑色的吗",  # a colour
        "有卖XL码的吗",  # a size
        "有卖大码吗",
        "有卖原味的吗",  # a flavour
        "你们店里卖假货吗",  # an authenticity question
        "卖得好吗",
    ],
)
def test_questions_that_name_no_product_have_no_thing(text):
    assert sold_question_subject(text) == ""


@pytest.mark.parametrize(
    "text,this_one",
    [
        ("这件有黑色的吗", True),
        ("这个装多高合适", True),
        ("這款多少錢", True),
        ("这一款有赠品吗", True),
        ("它保修几年", True),
        ("其它颜色有吗", False),
        ("这边几点发货", False),
        ("T7多少钱", False),
    ],
)
def test_this_one_is_the_product_on_screen(text, this_one):
    assert refers_to_this(text) is this_one
