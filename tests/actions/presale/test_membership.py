"""Membership of the signed-in customer, and the rules for everybody else."""

from sqlalchemy import func, select, update

from actions.presale.membership import ActionCheckMembership
from shop import clock
from shop.db import session_scope
from shop.db.models import Customer, Order
from shop.demo.seed import DEMO_NOW
from shop.policy.membership import points_value_fen
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


def test_only_friends_whose_order_shipped_earn_the_referral_reward(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    with session_scope(shop) as session:
        referrer_id, referees = session.execute(
            select(Customer.referred_by_id, func.count(Customer.id))
            .where(Customer.referred_by_id.is_not(None))
            .group_by(Customer.referred_by_id)
            .order_by(func.count(Customer.id).desc(), Customer.referred_by_id)
        ).first()
        assert referees >= 2
        referrer = session.get(Customer, referrer_id)
        # One invited friend ordered but nothing shipped (paid, then cancelled) ...
        friend = (
            session.execute(
                select(Customer).where(Customer.referred_by_id == referrer_id).order_by(Customer.id)
            )
            .scalars()
            .first()
        )
        orders = session.execute(select(Order).where(Order.customer_id == friend.id))
        for number, order in enumerate(orders.scalars()):
            order.state = "paid" if number == 0 else "cancelled"
        # ... and a new one has not ordered yet.
        session.add(
            Customer(
                name="新朋友",
                nickname="新朋友",
                phone_masked="138****0001",
                phone_tail="0001",
                province=referrer.province,
                city=referrer.city,
                address_masked=referrer.address_masked,
                personality_type="amiable",
                referred_by_id=referrer_id,
            )
        )
    run_action(ActionCheckMembership(), dispatcher, tracker(customer_id=referrer_id))
    _, facts = only_message(dispatcher)
    assert facts["referrals"] == referees + 1
    assert facts["rewarded_referrals"] == referees - 1
    assert facts["referral_rewards_fen"] == (referees - 1) * 1000
    assert facts["referral_rewards_yuan"] == str((referees - 1) * 10)
    # Once the friend's order ships, that referral earns the reward too.
    with session_scope(shop) as session:
        session.execute(
            update(Order)
            .where(Order.customer_id == friend.id, Order.state == "paid")
            .values(state="shipped")
        )
    dispatcher.messages.clear()
    run_action(ActionCheckMembership(), dispatcher, tracker(customer_id=referrer_id))
    assert only_message(dispatcher)[1]["rewarded_referrals"] == referees


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
