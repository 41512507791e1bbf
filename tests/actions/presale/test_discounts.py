"""Discounts: only running promotions and the customer's own valid coupons (fresh SQLite per test)."""

from sqlalchemy import select

from actions.presale.discounts import ActionCheckDiscount, promotion_saving_fen
from shop import settings
from shop.db import session_scope
from shop.db.models import Coupon, Customer, Product, Promotion
from shop.demo.seed import DEMO_NOW
from shop.money import yuan
from tests.actions.presale_support import at_demo_time, only_message, run_action, tracker


def product_named(engine, name):
    with session_scope(engine) as session:
        return session.execute(select(Product).where(Product.name == name)).scalar_one()


def coupons_of(engine, customer_id):
    with session_scope(engine) as session:
        return list(
            session.execute(select(Coupon).where(Coupon.customer_id == customer_id)).scalars()
        )


def valid(coupon):
    return not coupon.used and coupon.valid_from <= DEMO_NOW < coupon.valid_until


def customer_where(engine, predicate):
    with session_scope(engine) as session:
        ids = list(session.execute(select(Customer.id).order_by(Customer.id)).scalars())
    for customer_id in ids:
        if predicate(coupons_of(engine, customer_id)):
            return customer_id
    raise AssertionError("no such customer in the demo shop")


def test_saving_respects_threshold_and_kind():
    amount = Promotion(discount_fen=3000, percent_off=None, threshold_fen=19900)
    percent = Promotion(discount_fen=None, percent_off=10, threshold_fen=0)
    assert promotion_saving_fen(amount, 19800) == 0
    assert promotion_saving_fen(amount, 19900) == 3000
    assert promotion_saving_fen(percent, 299900) == 29990


def test_anonymous_customer_gets_running_promotions_and_an_invitation(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    pecans = product_named(shop, "松果仓碧根果")
    run_action(ActionCheckDiscount(), dispatcher, tracker(slots={"product": "碧根果"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_promotions_anonymous"
    assert facts["promotions"] == "坚果满199减30"
    assert facts["price_fen"] == pecans.price_fen
    assert facts["price_yuan"] == yuan(pecans.price_fen)
    [promotion] = facts["promotion_list"]
    assert promotion["threshold_fen"] == 19900 and promotion["discount_fen"] == 3000
    assert facts["card"]["product_id"] == pecans.id


def test_past_and_future_promotions_are_never_offered(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckDiscount(), dispatcher, tracker(slots={"product": "燃气热水器H13"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_none_anonymous"
    assert facts["promotions"] == "" and facts["promotion_list"] == []
    run_action(ActionCheckDiscount(), dispatcher, tracker(slots={"product": "零食大礼包"}))
    assert "年货节" not in str(dispatcher.messages[-1])


def test_signed_in_customer_sees_own_valid_coupons_only(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer_id = customer_where(shop, lambda cs: any(valid(c) and c.category is None for c in cs))
    expected = {c.name for c in coupons_of(shop, customer_id) if valid(c) and c.category is None}
    run_action(
        ActionCheckDiscount(),
        dispatcher,
        tracker(slots={"product": "高腰直筒牛仔裤"}, customer_id=customer_id),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_coupons_only"
    assert {c["name"] for c in facts["coupon_list"]} == expected


def test_signed_in_customer_without_coupons_hears_the_honest_price(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer_id = customer_where(shop, lambda cs: not any(valid(c) for c in cs))
    jeans = product_named(shop, "衣见高腰直筒牛仔裤")
    run_action(
        ActionCheckDiscount(),
        dispatcher,
        tracker("能便宜点吗", "ask_discount", {"product": "牛仔裤"}, customer_id=customer_id),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_none_signed_in"
    assert facts["price_yuan"] == yuan(jeans.price_fen)


def test_without_product_a_signed_in_customer_gets_their_coupons(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer_id = customer_where(shop, lambda cs: any(valid(c) for c in cs))
    run_action(ActionCheckDiscount(), dispatcher, tracker(customer_id=customer_id))
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_my_coupons"
    expected = sorted(c.valid_until for c in coupons_of(shop, customer_id) if valid(c))[0]
    assert facts["coupons_expire"] == expected.astimezone(settings.load().tz).date().isoformat()
    dispatcher.messages.clear()
    run_action(ActionCheckDiscount(), dispatcher, tracker())
    assert only_message(dispatcher)[0] == "utter_discount"


def test_a_forged_signature_sees_no_coupons(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer_id = customer_where(shop, lambda cs: any(valid(c) for c in cs))
    forged = tracker(slots={"product": "牛仔裤"}, customer_id=customer_id)
    forged.latest_message["metadata"]["customer_proof"] = "1." + "0" * 64
    run_action(ActionCheckDiscount(), dispatcher, forged)
    response, facts = only_message(dispatcher)
    assert response == "utter_discount_none_anonymous" and facts["coupon_list"] == []
