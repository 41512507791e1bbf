"""Money an agent's message promises as compensation, and whether the agent may grant it alone."""

import pytest

from bot.agent.authority import promised_compensation_fen, read_promise, refusal, within_authority
from shop.policy.compensation import FRONTLINE_LIMIT_FEN


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("给您补偿200元", 20000),
        ("賠償您兩百塊", 20000),
        ("２００元补偿", 20000),
        ("補償您¥１２８", 12800),
        ("补您差价 ¥35.5，另外送您10元无门槛券", 3550),
        ("亲，这边给您赔付两千元，您看可以吗", 200000),
        ("实在抱歉，补偿您一百二十块作为歉意", 12000),
        ("已为您申请补偿 12.05 元", 1205),
        ("给您返现 30 RMB", 3000),
        ("￥88 的红包已经发到您账户啦", 8800),
        ("送您一张50元优惠券，下单直接抵扣", 5000),
        ("先补偿您20元，再送50元优惠券", 5000),
        ("订单E20240610001已补偿20元，3天内到账", 2000),
    ],
)
def test_promised_compensation_is_read_from_the_agents_words(text, fen):
    assert promised_compensation_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "退款299元已原路退回",
        "您这单实付128元，明天上午发货",
        "满300元减30元的活动今晚截止哦",
        "我们会给您补偿的，请您放心",
        "",
        None,
    ],
)
def test_no_compensation_is_promised(text):
    assert promised_compensation_fen(text) == 0


@pytest.mark.parametrize(
    "text",
    [
        "退款299元已原路退回！另外给您补偿20元",
        "您的订单是299元吗？补偿您20元",
        "退款299元已原路退回；补偿20元稍后到账",
    ],
)
def test_amounts_in_another_sentence_than_the_compensation_word_do_not_count(text):
    assert promised_compensation_fen(text) == 2000


@pytest.mark.parametrize(
    "text",
    ["退款299元已原路退回。另外给您补偿20元", "退款299元已原路退回\n另外给您补偿20元"],
)
def test_a_full_stop_or_line_break_ends_a_sentence(text):
    assert promised_compensation_fen(text) == 2000


@pytest.mark.parametrize(
    ("text", "fen"),
    [("这单给您补偿1万元", 1_000_000), ("补偿您一万元", 1_000_000), ("补偿您1,000元", 100_000)],
)
def test_large_amounts_are_read(text, fen):
    assert promised_compensation_fen(text) == fen


@pytest.mark.parametrize(
    ("amount", "limit", "allowed"),
    [(0, 0, True), (5000, 5000, True), (5001, 5000, False), (20000, 50000, True)],
)
def test_within_authority(amount, limit, allowed):
    assert within_authority(amount, limit) is allowed


# Ways to word a promise of more than a frontline agent's ¥50 around the check: each must be read
# as the amount it promises, or refused as unreadable.
@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("给您补偿。金额是300元", 30000),  # the amount in another sentence
        ("补偿您的金额如下\n300", 30000),  # on another line, no currency
        ("补偿您伍佰元", 50000),  # financial numerals
        ("賠償您伍佰圓", 50000),  # Traditional
        ("补偿您五百块钱", 50000),
        ("给您补偿 CNY 500", 50000),
        ("给您补偿 500 CNY", 50000),
        ("补偿 RMB300", 30000),
        ("补偿人民币300", 30000),
        ("补偿您¥500", 50000),
        ("补偿您￥５００", 50000),  # full-width
        ("补\u200b偿您300元", 30000),  # a zero-width space inside the word
        ("补偿您3\u200b0\u20600元", 30000),  # invisible characters inside the number
        ("补偿您 3 0 0 元", 30000),  # spaced digits
        ("补偿您3\ufe0f\u20e30\ufe0f\u20e30\ufe0f\u20e3元", 30000),  # keycap emoji digits
        ("补偿您①⓪⓪元", 10000),  # circled digits
        ("赔您300", 30000),  # 赔 alone, no currency
        ("返您300块", 30000),  # 返 alone
        ("返300", 30000),
        ("给您发个300的券", 30000),  # 券 alone, no currency
        ("红包300已发", 30000),
        ("补偿您0.3万", 300000),
        ("补偿您3k", 300000),
        ("补偿您1w", 1000000),
        ("补偿您3百元", 30000),
        ("送您3张20元的券", 6000),  # three coupons
        ("补偿金额：300元", 30000),
        ("peichang 300 yuan", 30000),  # pinyin
        ("补偿您五十五元", 5500),
    ],
)
def test_worded_around_promises_are_read_for_what_they_promise(text, fen):
    promise = read_promise(text)
    assert promise.certain and promise.fen == fen
    assert refusal(text, FRONTLINE_LIMIT_FEN) == "above_authority"


@pytest.mark.parametrize(
    "text",
    [
        "补偿您几百块",
        "补偿您300多元",
        "补偿您三五百元",
        "补偿您上千元",
        "大概补偿您300元",
        "补偿您3千5百元",
        "赔您 $100",
        "补偿您100美元",
        "双倍赔偿",
        "给您3倍赔付",
        "全额赔偿您的损失",
        "这单给您免单",
        "补偿您一张9折券",
        "补偿您20%的货款",
        "给您补偿。您这单实付299元",  # the only amount is the price: which is promised?
        "补偿您3,00元",  # a malformed number
    ],
)
def test_what_cannot_be_read_for_certain_is_refused(text):
    assert not read_promise(text).certain
    assert refusal(text, FRONTLINE_LIMIT_FEN) == "compensation_unclear"
    assert refusal(text, 50000) == "compensation_unclear"  # a supervisor writes the amount too


def test_a_promise_split_over_two_messages_is_read_with_the_earlier_one():
    assert read_promise("300元", earlier="我这边申请给您补偿") == read_promise("补偿您300元")
    assert refusal("300元", FRONTLINE_LIMIT_FEN, earlier="给您补偿") == "above_authority"
    assert refusal("300元", FRONTLINE_LIMIT_FEN, earlier="您好") == ""


@pytest.mark.parametrize(
    "text",
    [
        "补偿您20元，3天内到账",
        "给您补偿20元，请在24小时内确认",
        "补偿您20元，有问题打400-123-4567",
        "补偿您20元，14:30前到账",
        "十分抱歉，补偿您20元",
        "万分抱歉，您千万别着急，补偿您20元",
        "给您赔个不是，补偿20元",
        "送您满300减30的券",
        "送您1张30元的券",
        "退款299元已原路返还，另外补偿20元",
        "我们会给您补偿的，请您放心",
        "您的订单2024112300123已发货",
        "退款299元已原路退回",
    ],
)
def test_ordinary_messages_within_the_limit_are_sent(text):
    assert read_promise(text).certain
    assert refusal(text, FRONTLINE_LIMIT_FEN) == "", read_promise(text)


def test_a_suggestions_own_amount_counts_too():
    assert refusal("亲，已为您处理", FRONTLINE_LIMIT_FEN, suggested_fen=8000) == "above_authority"
    assert refusal("亲，已为您处理", 50000, suggested_fen=8000) == ""
