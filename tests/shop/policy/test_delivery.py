"""Delivery policy at fixed moments: dispatch, days off, regions, arrival, free shipping."""

from datetime import date, datetime, timedelta, timezone

import pytest

from shop import settings
from shop.policy.delivery import (
    FREE_SHIPPING_THRESHOLD_FEN,
    REGION_MAINLAND,
    REGION_NEAR,
    REGION_REMOTE,
    REGION_UNKNOWN,
    amount_fen_in,
    deadline_verdict,
    dispatch_window,
    estimate_arrival,
    free_shipping_threshold_fen,
    region_of,
)


@pytest.fixture(autouse=True)
def shop_timezone(monkeypatch):
    """The shop's default zone, whatever the environment running the tests says."""
    monkeypatch.setenv("SHOP_TIMEZONE", "Asia/Shanghai")


def at(year, month, day, hour, minute=0):
    """A moment in shop time."""
    return datetime(year, month, day, hour, minute, tzinfo=settings.load().tz)


def never_off(day):
    return False


def window(moment, **kwargs):
    found = dispatch_window(moment, **kwargs)
    return found.earliest, found.latest


# -- dispatch ------------------------------------------------------------------------------


def test_paid_before_three_ships_today_after_ships_tomorrow():
    assert window(at(2024, 11, 21, 14, 59)) == (date(2024, 11, 21),) * 2
    assert window(at(2024, 11, 21, 15, 0)) == (date(2024, 11, 22),) * 2
    assert window(at(2024, 11, 21, 15, 1)) == (date(2024, 11, 22),) * 2


def test_cutoff_is_shop_time_whatever_the_zone_given():
    utc_1459 = at(2024, 11, 21, 14, 59).astimezone(timezone.utc)
    assert utc_1459.hour == 6
    assert window(utc_1459) == (date(2024, 11, 21),) * 2
    assert window(at(2024, 11, 21, 15, 1).astimezone(timezone.utc)) == (date(2024, 11, 22),) * 2


def test_cutoff_follows_the_configured_shop_time_zone(monkeypatch):
    paid = datetime(2024, 11, 21, 14, 30, tzinfo=timezone.utc)  # 22:30 in Shanghai
    assert window(paid) == (date(2024, 11, 22),) * 2
    monkeypatch.setenv("SHOP_TIMEZONE", "UTC")
    assert window(paid) == (date(2024, 11, 21),) * 2


def test_holiday_ships_within_48_hours():
    assert window(at(2024, 10, 2, 10)) == (date(2024, 10, 2), date(2024, 10, 4))
    # paid after the cut-off on the eve of the holiday: the next day is a holiday
    assert window(at(2024, 9, 30, 16)) == (date(2024, 10, 1), date(2024, 10, 2))


def test_2026_national_day_order_gets_the_holiday_rule():
    assert window(at(2026, 10, 2, 10)) == (date(2026, 10, 2), date(2026, 10, 4))
    # the day after the holiday (Thursday Oct 8) ships the same day again
    assert window(at(2026, 10, 8, 10)) == (date(2026, 10, 8),) * 2


def test_an_ordinary_weekend_is_a_day_off():
    # Friday after the cut-off: Saturday is the dispatch day, so within 48 h of payment
    assert window(at(2024, 11, 22, 15, 1)) == (date(2024, 11, 23), date(2024, 11, 24))
    assert window(at(2026, 3, 14, 10)) == (date(2026, 3, 14), date(2026, 3, 16))


def test_an_adjusted_working_saturday_ships_the_same_day():
    assert window(at(2026, 10, 10, 10)) == (date(2026, 10, 10),) * 2  # 调休 after 国庆节
    assert window(at(2026, 3, 14, 10)) != (date(2026, 3, 14),) * 2  # an ordinary Saturday


def test_the_day_off_rule_can_be_given():
    national_day = at(2026, 10, 2, 10)
    assert window(national_day, is_day_off=never_off) == (date(2026, 10, 2),) * 2
    asked = []

    def only_thursdays(day):
        asked.append(day)
        return day.weekday() == 3

    assert window(at(2024, 11, 21, 9), is_day_off=only_thursdays) == (
        date(2024, 11, 21),
        date(2024, 11, 23),
    )
    assert asked == [date(2024, 11, 21)]
    arrival = estimate_arrival(national_day, "杭州", is_day_off=never_off)
    assert (arrival.earliest, arrival.latest) == (date(2026, 10, 3), date(2026, 10, 4))


def test_naive_payment_time_is_refused():
    with pytest.raises(ValueError):
        dispatch_window(datetime(2024, 11, 22, 10, 0))


# -- regions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "city, region",
    [
        ("杭州", REGION_NEAR),
        ("上海市", REGION_NEAR),
        ("北京", REGION_MAINLAND),
        ("广东省", REGION_MAINLAND),
        ("乌鲁木齐", REGION_REMOTE),
        ("新疆维吾尔自治区", REGION_REMOTE),
        ("内蒙古", REGION_REMOTE),
        ("拉萨", REGION_REMOTE),
        ("火星", REGION_UNKNOWN),
        ("", REGION_UNKNOWN),
        (None, REGION_UNKNOWN),
    ],
)
def test_regions(city, region):
    assert region_of(city) == region


@pytest.mark.parametrize(
    "city",
    [
        "哈密",
        "吐鲁番",
        "喀什",
        "喀什地区",
        "阿克苏",
        "伊犁哈萨克自治州",
        "克孜勒苏柯尔克孜自治州",
        "石河子市",
        "通辽",
        "乌海市",
        "阿拉善盟",
        "锡林郭勒盟",
        "那曲",
        "林芝市",
        "阿里地区",
        "吴忠",
        "固原市",
        "中卫",
        "海东",
        "玉树",
        "玉树藏族自治州",
        "海西蒙古族藏族自治州",
        "海南藏族自治州",
    ],
)
def test_prefectures_of_the_remote_provinces_are_remote(city):
    assert region_of(city) == REGION_REMOTE
    assert free_shipping_threshold_fen(city) == 19900


@pytest.mark.parametrize(
    "city, region",
    [
        ("天水", REGION_MAINLAND),
        ("酒泉市", REGION_MAINLAND),
        ("临夏回族自治州", REGION_MAINLAND),
        ("海南", REGION_MAINLAND),
        ("海南省", REGION_MAINLAND),
        ("广西壮族自治区", REGION_MAINLAND),
        ("杭州市", REGION_NEAR),
        ("珠海", REGION_MAINLAND),
        ("洛阳市", REGION_MAINLAND),
        ("连云港", REGION_NEAR),
    ],
)
def test_other_places_keep_their_region(city, region):
    assert region_of(city) == region


# -- arrival and deadlines -------------------------------------------------------------------


def test_remote_city_takes_longer_and_unknown_city_gets_the_widest_window():
    thursday = at(2024, 11, 21, 10)
    near = estimate_arrival(thursday, "杭州")
    remote = estimate_arrival(thursday, "乌鲁木齐")
    unknown = estimate_arrival(thursday, "火星")
    assert (near.earliest, near.latest) == (date(2024, 11, 22), date(2024, 11, 23))
    assert (remote.earliest, remote.latest) == (date(2024, 11, 25), date(2024, 11, 28))
    assert (unknown.earliest, unknown.latest) == (date(2024, 11, 22), date(2024, 11, 28))
    express = estimate_arrival(thursday, "乌鲁木齐", "SF")
    assert express.latest < remote.latest
    assert (express.carrier, express.region) == ("SF", REGION_REMOTE)


def test_arrival_counts_from_both_ends_of_a_day_off_dispatch():
    arrival = estimate_arrival(at(2026, 10, 2, 10), "杭州")
    assert (arrival.dispatch.earliest, arrival.dispatch.latest) == (
        date(2026, 10, 2),
        date(2026, 10, 4),
    )
    assert (arrival.earliest, arrival.latest) == (date(2026, 10, 3), date(2026, 10, 6))


def test_deadline_verdict_is_never_a_false_promise():
    thursday = at(2024, 11, 21, 10)
    standard = estimate_arrival(thursday, "北京")
    express = estimate_arrival(thursday, "北京", "SF")
    assert deadline_verdict(standard, express, standard.latest) == "met"
    assert deadline_verdict(standard, express, standard.latest - timedelta(days=1)) == "express"
    # the standard earliest day is possible, but not sure: no promise
    assert deadline_verdict(standard, express, standard.earliest) == "express"
    assert deadline_verdict(standard, express, express.earliest) == "cannot_promise"


# -- free shipping ---------------------------------------------------------------------------


def test_free_shipping_thresholds_by_region():
    assert free_shipping_threshold_fen("北京") == FREE_SHIPPING_THRESHOLD_FEN["mainland"] == 5900
    assert free_shipping_threshold_fen("杭州") == 5900
    assert free_shipping_threshold_fen("西宁") == FREE_SHIPPING_THRESHOLD_FEN["remote"] == 19900
    assert free_shipping_threshold_fen("银川") == 19900


def test_a_place_that_cannot_be_located_gets_the_strictest_threshold():
    assert free_shipping_threshold_fen("火星") == FREE_SHIPPING_THRESHOLD_FEN["remote"]


@pytest.mark.parametrize(
    "text, fen",
    [("买了58元", 5800), ("一共99.5块", 9950), ("¥120", 12000), ("两件", None), (None, None)],
)
def test_amount_in_message(text, fen):
    assert amount_fen_in(text) == fen
