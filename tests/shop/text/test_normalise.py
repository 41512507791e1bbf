import pytest

from shop.text.normalise import normalise, to_simplified


@pytest.mark.parametrize(
    "text",
    [
        "瘋癫組的客服！！！😡",
        "ＳＦ１２３４５６７８９０１２",
        "亲~~~在吗。。。",
        "",
        "👨‍👩‍👧 ok",
        "İstanbul",
    ],
)
def test_length_is_preserved(text):
    assert len(normalise(text)) == len(text)


def test_traditional_becomes_simplified():
    assert normalise("請問這個還有貨嗎") == "请问这个还有货吗"
    assert normalise("褲腿一長一短") == "裤腿一长一短"


def test_phrase_conversion_that_changes_length_falls_back_per_character():
    text = "乾燥頭髮與發票"
    assert len(to_simplified(text)) == len(text)
    assert "发票" in to_simplified(text)


def test_full_width_becomes_half_width():
    assert normalise("ＸＬ码１６５") == "xl码165"
    assert normalise("订单号：2024") == "订单号:2024"


def test_ideographic_space_becomes_space():
    assert normalise("在吗\u3000亲") == "在吗 亲"


def test_lower_case():
    assert normalise("SF123 OK Pls") == "sf123 ok pls"


def test_emoji_and_modifiers_become_spaces():
    assert normalise("好评👍🏻") == "好评  "
    assert normalise("😡😡😡") == "   "


def test_repeated_punctuation_keeps_the_first_mark():
    assert normalise("还没到？？？") == "还没到?  "
    assert normalise("啥时候发货!?!?") == "啥时候发货!   "
    assert normalise("在吗。。。") == "在吗.  "


def test_single_punctuation_is_kept():
    assert normalise("好的，谢谢") == "好的,谢谢"


def test_whitespace_and_invisible_characters_become_spaces():
    assert normalise("包\t邮\n吗\u200b") == "包 邮 吗 "


def test_chinese_text_that_needs_nothing_is_unchanged():
    assert normalise("我要退货") == "我要退货"
