"""Installation knowledge from the specs, the booking form and the booking itself."""

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from actions.orders.installation_booking import (
    ActionBookInstallation,
    ValidateInstallationForm,
    part_of_day,
)
from actions.presale.installation import ActionInstallationInfo
from shop import clock
from shop.db import session_scope
from shop.db.models import (
    Customer,
    InstallationAppointment,
    InstallationProvider,
    Order,
    OrderItem,
    Product,
    Sku,
)
from shop.demo.seed import DEMO_NOW
from tests.actions.presale_support import at_demo_time, only_message, run_action, tracker

TODAY = DEMO_NOW.date()


def info(dispatcher, product):
    run_action(ActionInstallationInfo(), dispatcher, tracker(slots={"product": product}))
    return only_message(dispatcher)


def test_ceiling_hood_gets_height_cutout_and_flue(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    response, facts = info(dispatcher, "顶吸式油烟机T5")
    assert response == "utter_installation_hood_ceiling"
    assert (facts["height_min_mm"], facts["height_max_mm"]) == (650, 750)
    assert (facts["cutout_width_mm"], facts["cutout_depth_mm"]) == (320, 260)
    assert (facts["flue_diameter_mm"], facts["flue_max_length_m"]) == (160, 3)
    assert "预埋" in facts["tips"]


def test_each_appliance_gets_its_own_installation_facts(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    assert info(dispatcher, "侧吸式油烟机J1")[0] == "utter_installation_hood"
    dispatcher.messages.clear()
    response, facts = info(dispatcher, "嵌入式燃气灶B1")
    assert response == "utter_installation_hob" and facts["hob_cutout"] == "650×360mm"
    dispatcher.messages.clear()
    response, facts = info(dispatcher, "燃气热水器H13")
    assert response == "utter_installation_gas_heater" and facts["flue_diameter_mm"] == 60
    dispatcher.messages.clear()
    response, facts = info(dispatcher, "电热水器D60")
    assert response == "utter_installation_electric_heater"
    assert (facts["height_min_mm"], facts["height_max_mm"]) == (1800, 2000)
    dispatcher.messages.clear()
    assert info(dispatcher, "碧根果")[0] == "utter_installation_not_needed"
    dispatcher.messages.clear()
    run_action(ActionInstallationInfo(), dispatcher, tracker("烟管要预埋吗", "ask_installation"))
    assert only_message(dispatcher)[0] == "utter_installation_info"


def test_part_of_day_words():
    assert part_of_day("周六上午") == "morning"
    assert part_of_day("明天下午两点") == "afternoon"
    assert part_of_day("下班以后 七点") == "evening"
    assert part_of_day("全天都在家") is None


def kitchen_order(
    engine,
    *,
    booked: bool = False,
    appliance: bool = True,
    overdue=None,
    states=("paid", "shipped", "delivered"),
):
    """(order number, phone tail, shipping city, customer id) of a suitable demo order."""
    with session_scope(engine) as session:
        with_visit = select(InstallationAppointment.order_id).where(
            InstallationAppointment.status == "booked"
        )
        if overdue is not None:
            late = InstallationAppointment.contact_deadline < DEMO_NOW
            with_visit = with_visit.where(late if overdue else ~late)
        stmt = (
            select(Order, Customer)
            .join(Customer, Customer.id == Order.customer_id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Sku, Sku.id == OrderItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.needs_installation.is_(appliance))
            .where(Order.state.in_(states))
            .order_by(Order.order_number)
        )
        stmt = stmt.where(Order.id.in_(with_visit) if booked else Order.id.not_in(with_visit))
        for order, customer in session.execute(stmt):
            if appliance or not any(i.sku.product.needs_installation for i in order.items):
                return order.order_number, customer.phone_tail, order.shipping_city, customer.id
    raise AssertionError("no such order")


def book(dispatcher, order_id, tail, city, day, slot):
    slots = {
        "order_id": order_id,
        "phone_tail": tail,
        "city": city,
        "date": day,
        "install_slot": slot,
    }
    return run_action(ActionBookInstallation(), dispatcher, tracker(slots=slots))


def test_booking_records_the_visit_and_the_call_deadline(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, tail, city, _ = kitchen_order(shop)
    day = (TODAY + timedelta(days=3)).isoformat()
    events = book(dispatcher, order_id, tail, city, day, "afternoon")
    response, facts = only_message(dispatcher)
    assert response == "utter_installation_booked"
    with session_scope(shop) as session:
        row = session.execute(
            select(InstallationAppointment)
            .join(Order)
            .where(Order.order_number == order_id, InstallationAppointment.status == "booked")
        ).scalar_one()
        provider = session.get(InstallationProvider, row.provider_id)
        best = (
            session.execute(
                select(InstallationProvider)
                .where(InstallationProvider.city == city)
                .order_by(
                    InstallationProvider.rating.desc(),
                    InstallationProvider.contact_within_hours,
                    InstallationProvider.id,
                )
            )
            .scalars()
            .first()
        )
    assert provider.id == best.id
    assert (row.date.isoformat(), row.slot, row.city) == (day, "afternoon", city)
    # 10:30 + 12 h would be 22:30: the night does not count, so the call is due by 08:30
    assert provider.contact_within_hours == 12
    assert clock.moment_text(row.contact_deadline) == "2024-11-24 08:30"
    assert facts["contact_deadline"] == clock.moment_text(row.contact_deadline)
    assert (facts["date"], facts["time_of_day"], facts["provider"]) == (day, "下午", provider.name)
    assert facts["service_point"] == provider.service_point
    assert {(e["name"], e["value"]) for e in events} == {("date", None), ("install_slot", None)}
    dispatcher.messages.clear()
    book(dispatcher, order_id, tail, city, (TODAY + timedelta(days=5)).isoformat(), "morning")
    response, facts = only_message(dispatcher)
    assert response == "utter_installation_existing" and facts["date"] == day
    with session_scope(shop) as session:
        count = session.execute(
            select(InstallationAppointment.id).join(Order).where(Order.order_number == order_id)
        ).all()
    assert len(count) == 1


def test_chasing_a_visit_reports_it_and_apologises_once_the_call_is_overdue(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    order_id, tail, city, _ = kitchen_order(shop, booked=True, overdue=False)
    book(dispatcher, order_id, tail, city, None, None)
    assert only_message(dispatcher)[0] == "utter_installation_existing"
    dispatcher.messages.clear()
    with session_scope(shop) as session:
        visit = session.execute(
            select(InstallationAppointment)
            .join(Order)
            .where(Order.order_number == order_id, InstallationAppointment.status == "booked")
        ).scalar_one()
        visit.contact_deadline = DEMO_NOW - timedelta(hours=2)
    book(dispatcher, order_id, tail, city, None, None)
    response, facts = only_message(dispatcher)
    assert response == "utter_installation_contact_overdue"
    assert facts["order_id"] == order_id


def test_wrong_phone_tail_books_nothing(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, tail, city, _ = kitchen_order(shop)
    wrong = "0000" if tail != "0000" else "1111"
    book(dispatcher, order_id, wrong, city, (TODAY + timedelta(days=2)).isoformat(), "morning")
    assert only_message(dispatcher)[0] == "utter_order_not_found"
    with session_scope(shop) as session:
        assert not session.execute(
            select(InstallationAppointment.id).join(Order).where(Order.order_number == order_id)
        ).all()


def test_order_without_an_appliance_is_refused(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, tail, city, _ = kitchen_order(shop, appliance=False)
    book(dispatcher, order_id, tail, city, (TODAY + timedelta(days=2)).isoformat(), "morning")
    assert only_message(dispatcher)[0] == "utter_installation_no_appliance"


@pytest.mark.parametrize(
    "state, response",
    [("unpaid", "utter_order_status_unpaid"), ("cancelled", "utter_order_status_cancelled")],
)
def test_unpaid_and_cancelled_orders_get_no_visit(shop, dispatcher, monkeypatch, state, response):
    at_demo_time(monkeypatch)
    if state == "unpaid":  # the demo shop's appliance orders are all paid: one is not yet
        order_id, tail, city, customer_id = kitchen_order(shop, states=("paid",))
        with session_scope(shop) as session:
            order = session.execute(
                select(Order).where(Order.order_number == order_id)
            ).scalar_one()
            order.state, order.paid_at = "unpaid", None
    else:
        order_id, tail, city, customer_id = kitchen_order(shop, states=(state,))
    day = (TODAY + timedelta(days=2)).isoformat()
    book(dispatcher, order_id, tail, city, day, "morning")
    answered, facts = only_message(dispatcher)
    assert (answered, facts["order_id"]) == (response, order_id)
    with session_scope(shop) as session:
        assert not session.execute(
            select(InstallationAppointment.id).join(Order).where(Order.order_number == order_id)
        ).all()
    form = ValidateInstallationForm()
    for slots in (
        validate(form.validate_phone_tail, tail, dispatcher, slots={"order_id": order_id}),
        validate(form.validate_order_id, order_id, dispatcher, customer_id=customer_id),
    ):
        assert slots == {"order_id": None, "phone_tail": None}
        assert dispatcher.messages[-1]["response"] == response


def test_every_order_state_but_unpaid_and_cancelled_may_get_a_visit(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    day = (TODAY + timedelta(days=2)).isoformat()
    for state in ("paid", "shipped", "delivered", "completed"):
        dispatcher.messages.clear()
        order_id, tail, city, _ = kitchen_order(shop, states=(state,))
        book(dispatcher, order_id, tail, city, day, "morning")
        assert only_message(dispatcher)[0] == "utter_installation_booked", state


# -- the form's validation ----------------------------------------------------------------


def run(coroutine):
    return asyncio.run(coroutine)


def validate(method, value, dispatcher, text="", slots=None, customer_id=None):
    return method(value, dispatcher, tracker(text, slots=slots, customer_id=customer_id), {})


def test_day_and_part_of_day_in_natural_chinese(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    form = ValidateInstallationForm()
    assert validate(form.validate_date, "明天下午", dispatcher) == {
        "date": (TODAY + timedelta(days=1)).isoformat(),
        "install_slot": "afternoon",
    }
    assert validate(form.validate_date, "11月25日", dispatcher) == {"date": "2024-11-25"}
    assert validate(form.validate_date, "下周六", dispatcher, text="下周六上午") == {
        "date": "2024-11-30",
        "install_slot": "morning",
    }
    assert not dispatcher.messages


def test_past_today_far_and_unreadable_days_are_asked_again(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    form = ValidateInstallationForm()
    for value in ("昨天", "今天", "2025-06-01", "随便哪天"):
        dispatcher.messages.clear()
        assert validate(form.validate_date, value, dispatcher)["date"] is None
        response, facts = only_message(dispatcher)
        assert response == "utter_invalid_install_date"
        assert facts["earliest"] == date(2024, 11, 24).isoformat()


def test_order_and_tail_are_checked_and_the_city_is_prefilled(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, tail, city, _ = kitchen_order(shop)
    form = ValidateInstallationForm()
    slots = validate(form.validate_phone_tail, tail, dispatcher, slots={"order_id": order_id})
    assert slots == {"order_id": order_id, "phone_tail": tail, "city": city}
    wrong = "0000" if tail != "0000" else "1111"
    slots = validate(form.validate_phone_tail, wrong, dispatcher, slots={"order_id": order_id})
    assert slots == {"order_id": None, "phone_tail": None}
    assert only_message(dispatcher)[0] == "utter_order_not_found"


def test_existing_visit_fills_the_form_so_it_is_reported(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, tail, _, _ = kitchen_order(shop, booked=True)
    slots = validate(
        ValidateInstallationForm().validate_phone_tail,
        tail,
        dispatcher,
        slots={"order_id": order_id},
    )
    assert slots["date"] and slots["install_slot"] in ("morning", "afternoon", "evening")


def test_signed_in_customer_is_not_asked_for_the_phone_tail(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    order_id, _, city, customer_id = kitchen_order(shop)
    form = ValidateInstallationForm()
    signed = tracker(customer_id=customer_id)
    domain_slots = ["order_id", "phone_tail", "city", "date", "install_slot"]
    assert "phone_tail" not in run(form.required_slots(domain_slots, dispatcher, signed, {}))
    assert "phone_tail" in run(form.required_slots(domain_slots, dispatcher, tracker(), {}))
    slots = validate(form.validate_order_id, order_id, dispatcher, customer_id=customer_id)
    assert slots == {"order_id": order_id, "city": city}
    other = customer_id + 1
    slots = validate(form.validate_order_id, order_id, dispatcher, customer_id=other)
    assert slots["order_id"] is None


def test_city_must_have_a_provider(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    form = ValidateInstallationForm()
    assert validate(form.validate_city, "杭州市", dispatcher) == {"city": "杭州"}
    assert validate(form.validate_city, "拉萨", dispatcher) == {"city": None}
    assert only_message(dispatcher)[0] == "utter_installation_city_not_covered"


def test_part_of_day_is_read_from_any_reply(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    form = ValidateInstallationForm()
    extracted = run(form.extract_install_slot(dispatcher, tracker("晚上七点以后"), {}))
    assert extracted == {"install_slot": "evening"}
    assert run(form.extract_install_slot(dispatcher, tracker("好的"), {})) == {}


def test_a_vague_product_is_narrowed_by_the_customers_words_and_then_asked(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    asked = tracker(
        "顶吸式油烟机装的时候吊顶要开多大的孔", "ask_installation", {"product": "油烟机"}
    )
    run_action(ActionInstallationInfo(), dispatcher, asked)
    response, facts = only_message(dispatcher)
    assert response == "utter_ask_product"
    assert [c["title"] for c in facts["choices"]] == ["厨匠顶吸式油烟机T5", "厨匠顶吸式油烟机T7"]
    assert facts["choices"][1]["payload"] == '/ask_installation{"product": "厨匠顶吸式油烟机T7"}'


def test_the_model_in_the_customers_words_is_the_one_answered(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    asked = tracker("顶吸式油烟机T7吊顶要开多大的孔", "ask_installation", {"product": "油烟机"})
    run_action(ActionInstallationInfo(), dispatcher, asked)
    response, facts = only_message(dispatcher)
    assert response == "utter_installation_hood_ceiling"
    assert facts["product"] == "厨匠顶吸式油烟机T7"


def test_signed_in_customer_s_appliance_order_is_taken_without_asking(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    order_id, _, _, customer_id = kitchen_order(shop)
    form = ValidateInstallationForm()
    signed = tracker("帮我约安装", "book_installation", customer_id=customer_id)
    extracted = run(form.extract_order_id(dispatcher, signed, {}))
    with session_scope(shop) as session:
        latest = (
            session.execute(
                select(Order.order_number)
                .join(OrderItem)
                .join(Sku)
                .join(Product)
                .where(
                    Order.customer_id == customer_id,
                    Product.needs_installation.is_(True),
                    Order.state.in_(("paid", "shipped", "delivered", "completed")),
                )
                .order_by(Order.created_at.desc())
            )
            .scalars()
            .first()
        )
    assert extracted == {"order_id": latest}
    assert run(form.extract_order_id(dispatcher, tracker("帮我约安装"), {})) == {}
