import pytest

from actions import parsing


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
    "text, expected", [("8866", "8866"), ("尾号是 0312", "0312"), ("88661", None), ("12 34", None)]
)
def test_find_phone_tail(text, expected):
    assert parsing.find_phone_tail(text) == expected


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
