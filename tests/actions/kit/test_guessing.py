"""Phone-tail guessing: wrong tails counted per order and per client, in the shop database.

Every check goes through `actions.kit.identity`; the counts live in `verification_failures`,
so they hold across conversations, processes and restarts (`db.reset()` drops the engine).
"""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.kit.identity import parcel_by_number
from actions.kit.which_order import identified_order
from actions.orders.status import ActionCheckOrderStatus
from shop import clock, db
from shop.db.models import VerificationFailure
from shop.policy import verification as policy
from shop.repository.verification import recent_alerts
from tests.actions.kit.test_identity import build_shop, signed

ORDER, TAIL = "2024112000003", "1234"  # Alice's shipped hood, parcel SF1000000000003
OTHER = "2024112000002"  # another order of Alice's
WRONG = [f"{n:04d}" for n in range(9000, 9100)]


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    moment = {"now": ns.now}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    ns.moment = moment
    yield ns
    db.reset()


def tracker(sender, slots, metadata=None):
    latest = {"text": "", "intent": {"name": "inform"}, "entities": [], "metadata": metadata or {}}
    return Tracker(sender, slots, latest, [], False, None, {}, "action_listen")


def found(sender, number, tail, customer_id=None):
    metadata = signed(customer_id, conversation=sender) if customer_id else None
    with db.session_scope() as session:
        order = identified_order(
            session, tracker(sender, {"order_id": number, "phone_tail": tail}, metadata)
        )
        return order.order_number if order else None


def failures():
    with db.session_scope() as session:
        return session.execute(select(func.count()).select_from(VerificationFailure)).scalar()


def test_five_wrong_tails_lock_the_order_for_every_conversation(shop):
    assert found("first", ORDER, TAIL) == ORDER  # the right tail opens it at first
    for n, tail in enumerate(WRONG[: policy.ORDER_FAILURES_ALLOWED]):
        assert found(f"guesser-{n}", ORDER, tail) is None
    # locked: the buyer's own tail now gets "not found" too, from any conversation
    assert found("owner", ORDER, TAIL) is None
    assert found("first", ORDER, TAIL) is None
    # other orders are not locked
    assert found("owner", OTHER, TAIL) == OTHER


def test_the_lock_holds_across_a_restart_and_ends_with_the_window(shop):
    for n, tail in enumerate(WRONG[: policy.ORDER_FAILURES_ALLOWED]):
        assert found(f"guesser-{n}", ORDER, tail) is None
        db.reset()  # another process, or a restart: the count is in the database
    assert found("owner", ORDER, TAIL) is None
    shop.moment["now"] = shop.now + policy.WINDOW
    assert found("owner", ORDER, TAIL) == ORDER


def test_the_same_wrong_tail_checked_again_counts_once(shop):
    for _ in range(policy.ORDER_FAILURES_ALLOWED + 3):
        assert found("typo", ORDER, "4321") is None
    assert failures() == 1
    assert found("typo", ORDER, TAIL) == ORDER


def test_a_conversation_has_a_budget_over_all_orders(shop):
    numbers = [f"20241120000{n:02d}" for n in range(10, 30)]
    for n in range(policy.CLIENT_FAILURES_ALLOWED):
        assert found("sweeper", numbers[n], WRONG[n]) is None
    # no order is locked (two guesses at most each) but this conversation is
    assert found("sweeper", ORDER, TAIL) is None
    assert found("someone-else", ORDER, TAIL) == ORDER


def test_a_signed_in_customer_has_one_budget_across_conversations(shop):
    bob = shop.bob_id
    numbers = [f"20241120000{n:02d}" for n in range(10, 30)]
    for n in range(policy.CLIENT_FAILURES_ALLOWED):
        assert found(f"bob-conversation-{n}", numbers[n], WRONG[n], bob) is None
    assert found("bob-new-conversation", ORDER, TAIL, bob) is None
    # Bob's own order needs no tail and is not locked for him
    assert found("bob-new-conversation", "2024112000009", None, bob) == "2024112000009"
    assert found("anonymous", ORDER, TAIL) == ORDER


def test_locked_and_not_found_answer_alike(shop):
    for n, tail in enumerate(WRONG[: policy.ORDER_FAILURES_ALLOWED]):
        found(f"guesser-{n}", ORDER, tail)

    def answer(number, tail):
        dispatcher = CollectingDispatcher()
        slots = {"order_id": number, "phone_tail": tail}
        events = asyncio.run(ActionCheckOrderStatus().run(dispatcher, tracker("x", slots), {}))
        return dispatcher.messages, events

    locked = answer(ORDER, TAIL)
    assert locked == answer("2099999999999", TAIL) == answer(OTHER, "0000")
    assert locked[0][0]["response"] == "utter_order_not_found"


def test_guesses_by_parcel_number_count_on_its_order(shop):
    def parcel(sender, tail):
        slots = {"tracking_number": "SF1000000000003", "phone_tail": tail}
        with db.session_scope() as session:
            view = parcel_by_number(session, tracker(sender, slots), "SF1000000000003", shop.now)
            return view.tracking_number if view else None

    assert parcel("owner", TAIL) == "SF1000000000003"
    for n, tail in enumerate(WRONG[: policy.ORDER_FAILURES_ALLOWED]):
        assert parcel(f"guesser-{n}", tail) is None
    assert parcel("owner", TAIL) is None
    assert found("owner", ORDER, TAIL) is None


def test_a_burst_becomes_one_alert_for_the_console(shop):
    for n, tail in enumerate(WRONG[: policy.ORDER_FAILURES_ALLOWED + 2]):
        found(f"guesser-{n}", ORDER, tail)
    with db.session_scope() as session:
        alerts = recent_alerts(session, shop.now - policy.WINDOW)
    assert [(a.scope, a.subject, a.failures) for a in alerts] == [
        ("order", ORDER, policy.ORDER_FAILURES_ALLOWED + 2)
    ]


def test_a_conversation_burst_is_an_alert_too(shop):
    numbers = [f"20241120000{n:02d}" for n in range(10, 30)]
    for n in range(policy.CLIENT_FAILURES_ALLOWED):
        found("sweeper", numbers[n], WRONG[n])
    with db.session_scope() as session:
        alerts = recent_alerts(session, shop.now - policy.WINDOW)
    assert [(a.scope, a.subject) for a in alerts] == [("conversation", "sweeper")]
