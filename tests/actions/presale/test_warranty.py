"""Warranty years from the catalogue and the nearest service point (fresh SQLite per test)."""

from sqlalchemy import select

from actions.presale.warranty import ActionCheckWarranty
from shop.db import session_scope
from shop.db.models import Customer, InstallationProvider, Product
from tests.actions.presale_support import (
    at_demo_time,
    first_customer,
    only_message,
    run_action,
    tracker,
)


def best_provider(engine, city, category):
    with session_scope(engine) as session:
        rows = session.execute(
            select(InstallationProvider)
            .where(InstallationProvider.city == city)
            .order_by(
                InstallationProvider.rating.desc(),
                InstallationProvider.contact_within_hours,
                InstallationProvider.id,
            )
        ).scalars()
        return next(p for p in rows if category in p.categories)


def warranty_of(engine, name):
    with session_scope(engine) as session:
        return session.execute(select(Product.warranty_years).where(Product.name == name)).scalar()


def test_warranty_years_and_service_point_in_the_named_city(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionCheckWarranty(),
        dispatcher,
        tracker(slots={"product": "电热水器D80", "city": "杭州市"}),
    )
    response, facts = only_message(dispatcher)
    provider = best_provider(shop, "杭州", "热水器")
    assert response == "utter_warranty_product_service_point"
    assert facts["warranty_years"] == warranty_of(shop, "厨匠电热水器D80") == 8
    assert (facts["city"], facts["provider"], facts["service_point"]) == (
        "杭州",
        provider.name,
        provider.service_point,
    )


def test_signed_in_customer_gets_the_service_point_of_their_city(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer = first_customer(shop, Customer.city == "成都")
    run_action(
        ActionCheckWarranty(),
        dispatcher,
        tracker(slots={"product": "顶吸式油烟机T5"}, customer_id=customer.id),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_warranty_product_service_point"
    assert facts["city"] == "成都" and facts["warranty_years"] == 5
    assert facts["provider"] == best_provider(shop, "成都", "油烟机").name


def test_anonymous_without_city_is_asked_for_it(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckWarranty(), dispatcher, tracker(slots={"product": "燃气灶B1"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_warranty_product_ask_city" and facts["warranty_years"] == 3


def test_city_without_service_point_is_said_honestly(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionCheckWarranty(), dispatcher, tracker(slots={"product": "燃气灶B1", "city": "拉萨"})
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_warranty_product_no_service_point" and facts["city"] == "拉萨"


def test_products_without_warranty_point_to_after_sale(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckWarranty(), dispatcher, tracker(slots={"product": "碧根果"}))
    assert only_message(dispatcher)[0] == "utter_warranty_not_applicable"


def test_city_only_gets_its_service_point_and_nothing_gets_the_general_answer(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    run_action(ActionCheckWarranty(), dispatcher, tracker(slots={"city": "宁波"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_warranty_service_point" and facts["city"] == "宁波"
    dispatcher.messages.clear()
    run_action(ActionCheckWarranty(), dispatcher, tracker("保修几年", "ask_warranty"))
    assert only_message(dispatcher)[0] == "utter_warranty"
