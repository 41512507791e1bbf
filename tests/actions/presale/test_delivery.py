"""Delivery promises and free shipping: pure policy helpers at fixed moments, and the actions
against a freshly seeded demo shop (one SQLite per test)."""

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.presale import delivery
from actions.presale.delivery import (
    FREE_SHIPPING_THRESHOLD_FEN,
    HOLIDAYS,
    REGION_MAINLAND,
    REGION_NEAR,
    REGION_REMOTE,
    REGION_UNKNOWN,
    SHOP_TZ,
    ActionCheckFreeShipping,
    ActionEstimateDelivery,
    amount_fen_in,
    deadline_verdict,
    dispatch_window,
    estimate_arrival,
    free_shipping_threshold_fen,
    region_of,
)
from shop.db import session_scope
from shop.db.models import Customer, Product
from tests.actions.conftest import make_tracker

THURSDAY = datetime(2024, 11, 21, 10, 0, tzinfo=SHOP_TZ)


def at(day, hour, minute=0):
    return datetime(2024, day[0], day[1], hour, minute, tzinfo=SHOP_TZ)


# -- pure helpers -------------------------------------------------------------------------


def test_paid_before_three_ships_today_after_ships_tomorrow():
    assert dispatch_window(at((11, 22), 14, 59)).latest == date(2024, 11, 22)
    assert dispatch_window(at((11, 22), 15, 1)).earliest == date(2024, 11, 23)
    assert dispatch_window(at((11, 22), 15, 0)).latest == date(2024, 11, 23)


def test_cutoff_is_shanghai_time_whatever_the_zone_given():
    utc_1459 = at((11, 22), 14, 59).astimezone(timezone.utc)
    assert utc_1459.hour == 6
    assert dispatch_window(utc_1459).latest == date(2024, 11, 22)
    assert dispatch_window(at((11, 22), 15, 1).astimezone(timezone.utc)).latest == date(
        2024, 11, 23
    )


def test_holiday_ships_within_48_hours():
    window = dispatch_window(at((10, 2), 10))
    assert (window.earliest, window.latest) == (date(2024, 10, 2), date(2024, 10, 4))
    # paid after the cut-off on the eve of the holiday: the next day is a holiday
    eve = dispatch_window(at((9, 30), 16))
    assert (eve.earliest, eve.latest) == (date(2024, 10, 1), date(2024, 10, 2))


def test_holiday_table_reaches_into_next_year():
    """The real date, not a test clock: the table must never silently run out."""
    next_year = datetime.now(SHOP_TZ).year + 1
    assert any(day.year == next_year for day in HOLIDAYS), (
        f"delivery.HOLIDAYS has no date in {next_year}: copy in the State Council's "
        f"{next_year} holiday notice (国务院办公厅关于{next_year}年部分节假日安排的通知)"
    )


def test_2026_national_day_order_gets_the_holiday_rule():
    window = dispatch_window(datetime(2026, 10, 2, 10, 0, tzinfo=SHOP_TZ))
    assert (window.earliest, window.latest) == (date(2026, 10, 2), date(2026, 10, 4))
    # the day after the holiday (Oct 8) and an ordinary Friday ship the same day again
    after = dispatch_window(datetime(2026, 10, 8, 10, 0, tzinfo=SHOP_TZ))
    assert (after.earliest, after.latest) == (date(2026, 10, 8), date(2026, 10, 8))


@pytest.mark.parametrize(
    "holiday, workday",
    [
        (date(2026, 2, 17), date(2026, 2, 24)),  # 春节 (初一), the day after the break
        (date(2026, 9, 25), date(2026, 9, 28)),  # 中秋节
        (date(2027, 2, 6), date(2027, 2, 15)),  # 春节 2027 (初一)
        (date(2027, 10, 7), date(2027, 10, 8)),  # 国庆节 2027
    ],
)
def test_holiday_table_knows_the_lunar_holidays(holiday, workday):
    assert holiday in HOLIDAYS and workday not in HOLIDAYS


def test_naive_payment_time_is_refused():
    with pytest.raises(ValueError):
        dispatch_window(datetime(2024, 11, 22, 10, 0))


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
    ],
)
def test_regions(city, region):
    assert region_of(city) == region


def test_remote_city_takes_longer_and_unknown_city_gets_the_widest_window():
    near = estimate_arrival(THURSDAY, "杭州")
    remote = estimate_arrival(THURSDAY, "乌鲁木齐")
    unknown = estimate_arrival(THURSDAY, "火星")
    assert (near.earliest, near.latest) == (date(2024, 11, 22), date(2024, 11, 23))
    assert (remote.earliest, remote.latest) == (date(2024, 11, 25), date(2024, 11, 28))
    assert (unknown.earliest, unknown.latest) == (date(2024, 11, 22), date(2024, 11, 28))
    express = estimate_arrival(THURSDAY, "乌鲁木齐", "SF")
    assert express.latest < remote.latest


def test_deadline_verdict_is_never_a_false_promise():
    standard = estimate_arrival(THURSDAY, "北京")
    express = estimate_arrival(THURSDAY, "北京", "SF")
    assert deadline_verdict(standard, express, standard.latest) == "met"
    assert deadline_verdict(standard, express, standard.latest - timedelta(days=1)) == "express"
    # the standard earliest day is possible, but not sure: no promise
    assert deadline_verdict(standard, express, standard.earliest) == "express"
    assert deadline_verdict(standard, express, express.earliest) == "cannot_promise"


def test_free_shipping_thresholds_by_region():
    assert free_shipping_threshold_fen("北京") == FREE_SHIPPING_THRESHOLD_FEN["mainland"] == 5900
    assert free_shipping_threshold_fen("西宁") == FREE_SHIPPING_THRESHOLD_FEN["remote"] == 19900
    assert free_shipping_threshold_fen("银川") == 19900


@pytest.mark.parametrize(
    "text, fen", [("买了58元", 5800), ("一共99.5块", 9950), ("¥120", 12000), ("两件", None)]
)
def test_amount_in_message(text, fen):
    assert amount_fen_in(text) == fen


# -- actions ------------------------------------------------------------------------------


@pytest.fixture
def shop(shop, monkeypatch):
    monkeypatch.setattr(delivery, "shop_now", lambda: THURSDAY)
    return shop


def run(action, dispatcher, text="", **slots):
    events = asyncio.run(action.run(dispatcher, make_tracker(text=text, slots=slots), {}))
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"] is None
    return message["response"], message, events


def test_missing_city_is_asked_for(shop, dispatcher):
    response, _, _ = run(ActionEstimateDelivery(), dispatcher, date="周五")
    assert response == "utter_ask_city_for_delivery"


def test_estimate_for_a_city(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京")
    assert response == "utter_delivery_estimate"
    assert facts["city"] == "北京"
    assert facts["ship_by"] == "2024-11-21"
    assert (facts["earliest"], facts["latest"]) == ("2024-11-23", "2024-11-25")
    assert (facts["express_earliest"], facts["express_latest"]) == ("2024-11-22", "2024-11-23")


def test_deadline_the_estimate_supports(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="下周一")
    assert response == "utter_delivery_deadline_met"
    assert facts["deadline"] == "2024-11-25" == facts["latest"]


def test_deadline_only_express_can_keep(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="周六")
    assert response == "utter_delivery_deadline_express"
    assert facts["deadline"] == "2024-11-23" == facts["express_latest"]
    assert facts["latest"] > facts["deadline"]


def test_deadline_nothing_can_promise_is_answered_honestly(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="周五")
    assert response == "utter_delivery_deadline_cannot_promise"
    assert facts["deadline"] == "2024-11-22"
    assert facts["express_latest"] > facts["deadline"]


def test_remote_city_deadline_is_not_met(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="拉萨", date="11月25日")
    assert response == "utter_delivery_deadline_express"
    assert (facts["latest"], facts["express_latest"]) == ("2024-11-28", "2024-11-25")


def test_unreadable_deadline(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="尽快")
    assert (response, facts["date"]) == ("utter_delivery_deadline_not_understood", "尽快")


def set_price(engine, name, fen):
    with session_scope(engine) as session:
        product = session.execute(select(Product).where(Product.name == name)).scalar_one()
        product.price_fen = fen


def test_free_shipping_policy_without_city(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher)
    assert response == "utter_free_shipping_policy"
    assert (facts["mainland_threshold"], facts["remote_threshold"]) == ("59", "199")
    assert facts["remote_regions"] == "新疆、西藏、青海、内蒙古、宁夏"


def test_product_at_the_mainland_threshold_ships_free(shop, dispatcher):
    set_price(shop, "芳屿甜橙精油", 5900)
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, city="北京", product="甜橙精油")
    assert (response, facts["amount"], facts["threshold"]) == (
        "utter_free_shipping_yes",
        "59",
        "59",
    )


def test_same_product_to_a_remote_region_is_short(shop, dispatcher):
    set_price(shop, "芳屿甜橙精油", 5900)
    response, facts, _ = run(
        ActionCheckFreeShipping(), dispatcher, city="拉萨", product="甜橙精油", quantity="2"
    )
    assert response == "utter_free_shipping_short"
    assert (facts["amount"], facts["threshold"], facts["shortfall"]) == ("118", "199", "81")


def test_amount_from_the_message_and_no_amount(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了200元", city="西宁")
    assert (response, facts["amount"]) == ("utter_free_shipping_yes", "200")
    other = type(dispatcher)()
    response, facts, _ = run(ActionCheckFreeShipping(), other, city="银川")
    assert (response, facts["threshold"]) == ("utter_free_shipping_threshold", "199")


def known_customer(monkeypatch, customer_id):
    """The free-shipping action for a signed-in customer (no subclass: the SDK would register it)."""
    monkeypatch.setattr(
        ActionCheckFreeShipping, "verified_customer_id", lambda self, tracker: customer_id
    )
    return ActionCheckFreeShipping()


def test_verified_customer_with_an_active_card(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        holder = (
            session.execute(
                select(Customer)
                .where(Customer.free_shipping_card_until > THURSDAY)
                .order_by(Customer.id)
            )
            .scalars()
            .first()
        )
        assert holder is not None, "the demo shop has a free-shipping card holder"
        until = holder.free_shipping_card_until.astimezone(SHOP_TZ).date().isoformat()
        holder_id = holder.id
    response, facts, _ = run(
        known_customer(monkeypatch, holder_id), dispatcher, city="拉萨", text="买了20元"
    )
    assert (response, facts["card_until"]) == ("utter_free_shipping_card", until)


def test_expired_card_gets_the_regular_policy(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        customer = session.execute(select(Customer).order_by(Customer.id)).scalars().first()
        customer.free_shipping_card_until = THURSDAY - timedelta(days=1)
        customer_id = customer.id
    response, _, _ = run(
        known_customer(monkeypatch, customer_id), dispatcher, city="拉萨", text="买了20元"
    )
    assert response == "utter_free_shipping_short"


def test_customer_is_unknown_without_an_identity_helper(shop):
    assert ActionCheckFreeShipping().verified_customer_id(make_tracker()) is None


def test_signed_in_customer_is_answered_for_their_own_city(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        customer = session.execute(select(Customer).order_by(Customer.id)).scalars().first()
        customer.free_shipping_card_until = THURSDAY - timedelta(days=1)
        customer_id, city = customer.id, customer.city
    response, facts, _ = run(known_customer(monkeypatch, customer_id), dispatcher, text="包邮吗")
    assert response == "utter_free_shipping_threshold"
    assert facts["city"] == city
    monkeypatch.undo()
    anonymous, _, _ = run(ActionCheckFreeShipping(), CollectingDispatcher(), text="包邮吗")
    assert anonymous == "utter_free_shipping_policy"


# -- remote prefectures and places that cannot be located --------------------------------------


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
    ],
)
def test_other_places_keep_their_region(city, region):
    assert region_of(city) == region


def test_a_place_that_cannot_be_located_never_gets_the_mainland_threshold(shop, dispatcher):
    assert free_shipping_threshold_fen("火星") == FREE_SHIPPING_THRESHOLD_FEN["remote"]
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了60元", city="火星")
    assert response == "utter_free_shipping_policy"
    assert (facts["city"], facts["region"]) == ("火星", REGION_UNKNOWN)
    assert (facts["mainland_threshold"], facts["remote_threshold"]) == ("59", "199")
    assert "amount" not in facts and "threshold" not in facts


def test_a_remote_prefecture_is_short_of_free_shipping_at_the_mainland_threshold(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了60元", city="哈密")
    assert response == "utter_free_shipping_short"
    assert (facts["threshold"], facts["shortfall"]) == ("199", "139")


@pytest.mark.parametrize(
    "city, region",
    [
        ("珠海", REGION_MAINLAND),
        ("洛阳市", REGION_MAINLAND),
        ("连云港", REGION_NEAR),
        ("那曲", REGION_REMOTE),
    ],
)
def test_prefecture_level_cities_are_placed(city, region):
    assert region_of(city) == region
