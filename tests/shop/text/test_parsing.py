from decimal import Decimal

import pytest

from shop.text import parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("订单号2024112300123", "2024112300123"),
        ("訂單號：２０２４１１２３００１２３ 謝謝", "2024112300123"),
        ("12024112300123", None),
        ("2024112300", None),
        ("订单 1024112300123", None),
    ],
)
def test_find_order_id(text, expected):
    assert parsing.find_order_id(text) == expected


def test_is_order_id_rejects_sql_and_huge_numbers():
    assert parsing.is_order_id("2024112300123")
    assert not parsing.is_order_id("2024112300123' OR 1=1 --")
    assert not parsing.is_order_id("9" * 400)


@pytest.mark.parametrize(
    "text, expected",
    [("一百二十", 120), ("两", 2), ("十五", 15), ("35", 35), ("三千零五", 3005), ("abc", None)],
)
def test_chinese_number(text, expected):
    assert parsing.chinese_number(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("165", 165),
        ("170cm", 170),
        ("一米七", 170),
        ("1米65", 165),
        ("1.8m", 180),
        ("１６５", 165),
        ("身高不告诉你", None),
        ("999", None),
    ],
)
def test_parse_height_cm(text, expected):
    assert parsing.parse_height_cm(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("120斤", 60),
        ("55kg", 55),
        ("60公斤", 60),
        ("110", 55),
        ("50", 50),
        ("0", None),
        ("很胖", None),
    ],
)
def test_parse_weight_kg(text, expected):
    assert parsing.parse_weight_kg(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("脚长24.5", 245),
        ("脚长 245mm", 245),
        ("24.5厘米", 245),
        ("245毫米", 245),
        ("脚长二十四点五", 245),
        ("我脚长二百四十五毫米 穿几码", 245),
        ("腳長25公分", 250),
        ("脚的长度是 25.3cm", 253),
        ("我165cm 脚长24.5穿多大", 245),
        ("身高165cm 体重120斤", None),  # a height is no foot length
        ("脚长245", 245),
        ("脚长 50cm", None),  # 500 mm: implausible
        ("脚长14厘米", None),  # 140 mm: implausible
        ("脚长34cm", None),  # 340 mm: implausible
        ("脚长60", None),  # neither cm nor mm
        ("平时穿39码", None),
        ("245", None),  # a bare number only right after the question
    ],
)
def test_parse_foot_length_mm(text, expected):
    assert parsing.parse_foot_length_mm(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("245", 245), ("24.5", 245), (" 25 ", 250), ("60", None), ("1000", None), ("245 谢谢", None)],
)
def test_parse_foot_length_mm_reads_a_bare_reply_when_asked(text, expected):
    assert parsing.parse_foot_length_mm(text, bare_number=True) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("腰围72", 72),
        ("腰围 72cm", 72),
        ("腰围76厘米穿啥码", 76),
        ("腰围七十二", 72),
        ("2尺2", 73.3),
        ("腰围2尺2选哪个", 73.3),
        ("腰围二尺四 牛仔裤拍几码", 80),
        ("2尺2寸", 73.3),
        ("腰围 2.2尺", 73.3),
        ("28寸", 71.1),
        ("牛仔褲腰圍28吋要選哪個", 71.1),
        ("我28腰 175 140斤", 71.1),
        ("腰围28", 71.1),  # a bare jeans size is inches
        ("腰围 120斤", None),
        ("尺码标准吗 选2尺码", None),
        ("身高165 体重55kg", None),
        ("腰围40cm", None),  # implausible
        ("腰围160cm", None),  # implausible
        ("5尺", None),  # 166.7 cm: implausible
    ],
)
def test_parse_waist_cm(text, expected):
    assert parsing.parse_waist_cm(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("300", "300"),
        ("1,000", "1000"),
        ("12,345.67", "12345.67"),
        ("35.5", "35.5"),
        ("3百", "300"),
        ("1.5万", "15000"),
        ("0.3万", "3000"),
        ("3k", "3000"),
        ("2w", "20000"),
        ("两百", "200"),
        ("一百五", "150"),
        ("伍佰", "500"),
        ("壹仟贰佰", "1200"),
        ("贰拾", "20"),
        ("一万二", "12000"),
        ("三百零五", "305"),
        ("十", "10"),
    ],
)
def test_read_amount_reads_every_way_an_amount_is_written(text, expected):
    assert parsing.read_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["几百", "五百多", "一两百", "三五百", "万", "百万", "1,00", "1.2.3", "3千5百", "", "abc"],
)
def test_read_amount_gives_nothing_for_what_is_not_exactly_a_number(text):
    assert parsing.read_amount(text) is None
