"""Gifts fit the product's category and the customer (fresh SQLite per test)."""

from sqlalchemy import select

from actions.presale.gifts import ActionSuggestGift, quantity_of
from shop.db import session_scope
from shop.db.models import Customer, Gift, Product
from shop.demo.seed import DEMO_NOW
from shop.money import yuan
from tests.actions.presale_support import (
    at_demo_time,
    first_customer,
    only_message,
    run_action,
    tracker,
)

BABY_ITEMS = {"宝宝辅食碗勺套装", "婴儿湿巾"}
SCENTED = {"精油5ml试用装", "扩香石"}


def product_named(engine, name):
    with session_scope(engine) as session:
        return session.execute(select(Product).where(Product.name == name)).scalar_one()


def gifts_of(engine, category):
    with session_scope(engine) as session:
        return list(session.execute(select(Gift).where(Gift.category == category)).scalars())


def ask(dispatcher, product, quantity="1", customer_id=None):
    slots = {"product": product, "quantity": quantity}
    run_action(ActionSuggestGift(), dispatcher, tracker(slots=slots, customer_id=customer_id))
    return only_message(dispatcher)


def test_hob_gets_its_gift_and_hears_the_next_threshold(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    hob = product_named(shop, "厨匠不锈钢燃气灶B2")
    gifts = sorted(gifts_of(shop, "燃气灶"), key=lambda g: g.min_order_fen)
    assert gifts[0].min_order_fen <= hob.price_fen < gifts[1].min_order_fen
    response, facts = ask(dispatcher, "燃气灶B2")
    assert response == "utter_gift_offers_and_more"
    assert facts["gifts"] == gifts[0].name
    assert facts["next_gift"] == gifts[1].name
    assert facts["shortfall_yuan"] == yuan(gifts[1].min_order_fen - hob.price_fen)


def test_cheap_jeans_get_no_gift_but_the_threshold(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    response, facts = ask(dispatcher, "高腰直筒牛仔裤")
    assert response == "utter_gift_only_above"
    assert facts["next_gift"] == "简约皮带" and facts["next_threshold_yuan"] == "300"
    dispatcher.messages.clear()
    response, facts = ask(dispatcher, "高腰直筒牛仔裤", quantity="2")
    assert response == "utter_gift_offers" and facts["gifts"] == "简约皮带"


def test_no_baby_items_for_a_customer_without_a_baby(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    childless = first_customer(shop, Customer.baby_birth_date.is_(None))
    _, facts = ask(dispatcher, "有机婴儿配方奶粉2段", quantity="3", customer_id=childless.id)
    names = {g["name"] for g in facts["gift_list"]}
    assert names and not names & BABY_ITEMS


def months_old(born):
    today = DEMO_NOW.date()
    return (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)


def test_baby_items_fit_a_parent_and_the_babys_age(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    with session_scope(shop) as session:
        parents = list(
            session.execute(
                select(Customer).where(Customer.baby_birth_date.is_not(None)).order_by(Customer.id)
            ).scalars()
        )
    older = next(p for p in parents if months_old(p.baby_birth_date) >= 6)
    younger = next(p for p in parents if months_old(p.baby_birth_date) < 6)
    _, facts = ask(dispatcher, "有机婴儿配方奶粉2段", quantity="3", customer_id=older.id)
    assert BABY_ITEMS <= {g["name"] for g in facts["gift_list"]}
    dispatcher.messages.clear()
    _, facts = ask(dispatcher, "有机婴儿配方奶粉2段", quantity="3", customer_id=younger.id)
    names = {g["name"] for g in facts["gift_list"]}
    assert "婴儿湿巾" in names and "宝宝辅食碗勺套装" not in names


def test_first_stage_formula_gets_no_item_for_older_babies(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    _, facts = ask(dispatcher, "经典婴儿配方奶粉1段", quantity="3")
    names = {g["name"] for g in facts["gift_list"]}
    assert "婴儿湿巾" in names and "宝宝辅食碗勺套装" not in names


def test_no_scented_gifts_for_a_customer_who_avoids_strong_scents(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    with session_scope(shop) as session:
        customers = list(session.execute(select(Customer).order_by(Customer.id)).scalars())
    avoider = next(c for c in customers if "香味太浓" in (c.preferences.get("avoid") or []))
    _, facts = ask(dispatcher, "玫瑰精油", customer_id=avoider.id)
    assert not {g["name"] for g in facts["gift_list"]} & SCENTED
    dispatcher.messages.clear()
    _, facts = ask(dispatcher, "玫瑰精油")
    assert {g["name"] for g in facts["gift_list"]} == SCENTED


def test_without_a_product_the_general_answer(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionSuggestGift(), dispatcher, tracker("有赠品吗", "ask_gift"))
    assert only_message(dispatcher)[0] == "utter_gift"


def test_quantity_in_digits_or_chinese_numerals():
    assert [quantity_of(v) for v in ("3", "三包", "两件", "十二盒", None, "很多", "100000")] == [
        3,
        3,
        2,
        12,
        1,
        1,
        1,
    ]


def test_birthday_surprise_is_for_repeat_customers_near_their_birthday_only():
    from dataclasses import replace

    from actions.presale.gifts import birthday_surprise
    from shop.repository.customers import CustomerProfile

    base = CustomerProfile(
        customer_id=1,
        name="x",
        nickname="x",
        phone_masked="138****0000",
        city="杭州",
        address_masked="",
        member_level="gold",
        points=0,
        free_shipping_card_until=None,
        free_shipping_card_active=False,
        birthday=None,
        days_to_birthday=5,
        personality_type="amiable",
        preferences={"gift_ok": True},
        notes=[],
        order_count=3,
        total_spent_fen=100000,
        last_order_at=None,
        open_tickets=0,
        valid_coupons=0,
        referrals=0,
    )
    assert birthday_surprise(base)
    assert not birthday_surprise(replace(base, days_to_birthday=30))
    assert not birthday_surprise(replace(base, order_count=1))
    assert not birthday_surprise(replace(base, preferences={"gift_ok": False}))
    assert not birthday_surprise(None)
