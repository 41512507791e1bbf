"""Which customer messages read as angry, in Simplified and Traditional Chinese."""

import pytest

from bot.agent.anger import ANGRY_THRESHOLD, anger_of, is_angry

ANGRY = [
    "气死我了！！！快递一周都没动",
    "你们就是骗子，退钱！",
    "什么破质量，用了两天就坏了，垃圾",
    "再不给我处理我就去12315投诉你们",
    "不处理就给差评，说到做到",
    "你们有病吧，一个问题问八遍",
    "忍无可忍了，三次都发错货",
    "tmd 客服人呢？？？",
    "快点快点快点！！人呢",
    "退钱！！！退钱！！！",
    "滚！",
    # Traditional script
    "氣死了，你們這群騙子！！",
    "什麼破東西，真噁心",
    "再不退款我就找媒體曝光",
    "再不處理我就給差評",
    # full width digits
    "１２３１５见，不退款就等着吧",
]

CALM = [
    "收到是坏的",
    "怎么还没到",
    "怎么还没到？",
    "我要投诉，快递员态度不好",
    "请问怎么申请退款",
    "我给过差评，现在问题解决了",
    "谢谢！！辛苦了😊",
    "哈哈哈哈哈，好的好的",
    # words that only look abusive or threatening
    "滚筒洗衣机有现货吗？",
    "垃圾桶有白色的吗",
    "支持工商银行信用卡分期吗",
    "这个相机的曝光怎么调",
    "USB接口是Type-C的吗？",
    "订单号2023123150怎么还没发",
    "给妈妈的生日礼物能包装吗",
    # Traditional script
    "收到的杯子是破的，可以換貨嗎？",
    "請問什麼時候發貨？",
    "請問退錢要幾天",
]


@pytest.mark.parametrize("text", ANGRY)
def test_angry_messages_are_angry(text):
    assert is_angry(text), anger_of(text)
    assert ANGRY_THRESHOLD <= anger_of(text) <= 1.0


@pytest.mark.parametrize("text", CALM)
def test_ordinary_messages_and_complaints_are_calm(text):
    assert not is_angry(text), anger_of(text)
    assert 0.0 <= anger_of(text) < ANGRY_THRESHOLD


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("氣死我了", "气死我了"),
        ("你們這群騙子", "你们这群骗子"),
        ("真噁心", "真恶心"),
        ("太過分了", "太过分了"),
        ("再不處理就去消協", "再不处理就去消协"),
    ],
)
def test_both_scripts_read_the_same(traditional, simplified):
    assert anger_of(traditional) == anger_of(simplified) >= ANGRY_THRESHOLD


def test_full_and_half_width_read_the_same():
    assert anger_of("退钱！！！") == anger_of("退钱!!!") >= ANGRY_THRESHOLD
    assert anger_of("怎么回事？？？") == anger_of("怎么回事???") > anger_of("怎么回事")
    assert anger_of("ＴＭＤ") == anger_of("tmd") >= ANGRY_THRESHOLD


def test_angry_emoji_raise_the_score_and_two_are_angry():
    assert anger_of("发货了吗") == 0.0
    assert 0.0 < anger_of("发货了吗😡") < ANGRY_THRESHOLD
    for emoji in ("😡😡", "🤬🤬", "💢👊", "[发怒][发怒]"):
        assert is_angry("发货了吗" + emoji), emoji
    assert not is_angry("发货了吗😊😊")


def test_punctuation_runs_raise_the_score_but_never_make_anger_alone():
    calm = anger_of("怎么还没到")
    assert calm < anger_of("怎么还没到！！") < anger_of("怎么还没到！！！")
    assert anger_of("怎么还没到？？") == calm  # two question marks are puzzlement
    assert anger_of("怎么还没到？？？") > calm
    assert not is_angry("怎么还没到！！！") and not is_angry("怎么还没到？？？")
    assert is_angry("怎么还没到？？？！！！")  # both runs together
    assert is_angry("到底什么时候到！！！")  # an annoyed word with a run


def test_repeated_exclamations_and_repeated_complaints_raise_the_score():
    assert anger_of("发货!快点!人呢!") > anger_of("发货,快点,人呢!")
    assert anger_of("快点发货快点发货快点发货") > anger_of("快点发货")
    assert anger_of("什么时候退款，什么时候退款") > anger_of("什么时候退款")


def test_conditional_threat_is_angry_but_a_bare_mention_is_not():
    assert not is_angry("差评")
    assert is_angry("不退款我就差评")
    assert not is_angry("媒体")
    assert is_angry("否则我就找媒体")


def test_score_is_capped_and_empty_text_is_calm():
    assert anger_of("气死了！！！骗子！！！垃圾！！！😡😡😡 12315 曝光") == 1.0
    assert anger_of("") == 0.0 and not is_angry("")
