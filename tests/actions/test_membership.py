"""Membership of the signed-in customer, and the rules for everybody else."""

from sqlalchemy import func, select

from actions import clock
from actions.db import session_scope
from actions.membership import ActionCheckMembership, points_value_fen
from actions.models import Customer
from actions.seed import DEMO_NOW
from tests.actions.presale_support import (
    at_demo_time,
    first_customer,
    only_message,
    run_action,
    tracker,
)


def test_points_value_is_whole_yuan():
    assert points_value_fen(0) == 0
    assert points_value_fen(199) == 100
    assert points_value_fen(12345) == 12300


def test_member_with_an_active_card(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer = first_customer(shop, Customer.free_shipping_card_until > DEMO_NOW)
    run_action(ActionCheckMembership(), dispatcher, tracker(customer_id=customer.id))
    response, facts = only_message(dispatcher)
    assert response == "utter_membership_status_with_card"
    assert facts["member_level"] == customer.member_level
    assert facts["points"] == customer.points
    assert facts["points_value_fen"] == customer.points // 100 * 100
    assert facts["card_until"] == clock.day_text(customer.free_shipping_card_until)
    for private in (customer.name, customer.phone_masked, customer.address_masked):
        assert private not in str(facts)


def test_member_with_an_expired_card_and_referrals(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer = first_customer(shop, Customer.free_shipping_card_until <= DEMO_NOW)
    with session_scope(shop) as session:
        referrals = session.execute(
            select(func.count(Customer.id)).where(Customer.referred_by_id == customer.id)
        ).scalar()
    run_action(ActionCheckMembership(), dispatcher, tracker(customer_id=customer.id))
    response, facts = only_message(dispatcher)
    assert response == "utter_membership_status_card_expired"
    assert facts["referrals"] == referrals
    assert facts["referral_rewards_fen"] == referrals * 1000


def test_member_without_card(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    customer = first_customer(shop, Customer.free_shipping_card_until.is_(None))
    run_action(ActionCheckMembership(), dispatcher, tracker(customer_id=customer.id))
    assert only_message(dispatcher)[0] == "utter_membership_status"


def test_anonymous_customer_gets_the_rules(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckMembership(), dispatcher, tracker("积分怎么用", "ask_membership"))
    response, facts = only_message(dispatcher)
    assert response == "utter_membership"
    assert facts["points_per_yuan_off"] == 100 and facts["referral_reward_yuan"] == "10"
    assert "points" not in facts
