"""A new session keeps the persona and style, never the order proof (number + phone tail)."""

import asyncio
from pathlib import Path

import yaml
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.kit.session_start import ActionSessionStart
from tests.actions.conftest import make_tracker

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text("utf-8"))
PROOF = {
    "order_id": "2024112000003",
    "phone_tail": "1234",
    "return_request_id": "7",
    "tracking_number": "SF1000000000003",
}


def start(slots, domain=DOMAIN):
    tracker = make_tracker(slots=slots)
    return asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain))


def test_the_order_proof_does_not_cross_into_a_new_session():
    events = start({**PROOF, "persona": "crazy", "customer_style": "analytical"})
    assert events == [
        SessionStarted(),
        SlotSet("persona", "crazy"),
        SlotSet("customer_style", "analytical"),
        ActionExecuted("action_listen"),
    ]


def test_nothing_is_carried_when_the_domain_says_so():
    domain = {**DOMAIN, "session_config": {"carry_over_slots_to_new_session": False}}
    events = start({**PROOF, "persona": "crazy"}, domain)
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def test_rasa_runs_this_action_at_every_session_start():
    """Rasa calls the action server's action_session_start only when the domain names it."""
    assert "action_session_start" in DOMAIN["actions"]
    assert DOMAIN["session_config"]["carry_over_slots_to_new_session"] is True
    executor = ActionExecutor()
    executor.register_package("actions")
    assert "action_session_start" in executor.actions
