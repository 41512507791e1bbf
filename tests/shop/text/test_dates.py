"""The day a customer names, read relative to a fixed today (Thursday 2024-11-21)."""

from datetime import date

import pytest

from shop.text.dates import parse_day

TODAY = date(2024, 11, 21)  # a Thursday


@pytest.mark.parametrize(
    "text, expected",
    [
        ("今天", date(2024, 11, 21)),
        ("明天", date(2024, 11, 22)),
        ("后天能到吗", date(2024, 11, 23)),
        ("大后天", date(2024, 11, 24)),
        ("周五", date(2024, 11, 22)),
        ("星期四", date(2024, 11, 21)),
        ("礼拜一", date(2024, 11, 25)),
        ("周末", date(2024, 11, 23)),
        ("这周日", date(2024, 11, 24)),
        ("本周二", date(2024, 11, 19)),
        ("下周五之前", date(2024, 11, 29)),
        ("下下周一", date(2024, 12, 2)),
        ("11月25日", date(2024, 11, 25)),
        ("11月25号前", date(2024, 11, 25)),
        ("十二月一日", date(2024, 12, 1)),
        ("１２月３日", date(2024, 12, 3)),
        ("1月3日", date(2025, 1, 3)),
        ("28号", date(2024, 11, 28)),
        ("二十号", date(2024, 12, 20)),
        ("2024-12-05", date(2024, 12, 5)),
        ("12/24", date(2024, 12, 24)),
    ],
)
def test_days_named_in_chinese(text, expected):
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "尽快", "2月30日", "13月1日", "随便", "32号", None])
def test_unreadable_or_impossible_days(text):
    assert parse_day(text, TODAY) is None
