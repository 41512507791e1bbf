"""Money an agent's message promises as compensation, and whether the agent may grant it alone."""

import pytest

from bot.agent.authority import promised_compensation_fen, within_authority


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
