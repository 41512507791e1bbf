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
    named = [a if isinstance(a, str) else next(iter(a)) for a in DOMAIN["actions"]]
    assert "action_session_start" in named
    assert DOMAIN["session_config"]["carry_over_slots_to_new_session"] is True
    executor = ActionExecutor()
    executor.register_package("actions")
    assert "action_session_start" in executor.actions


def test_the_actions_that_read_the_domain_are_sent_it():
    """endpoints.yml sends the domain only where asked (selective domain): these read it."""
    from rasa.shared.core.domain import Domain

    from bot.settings import ROOT

    domain = Domain.load(str(ROOT / "domain.yml"))
    for reader in ("action_session_start", "action_extract_persona", "validate_return_form"):
        assert domain.does_custom_action_explicitly_need_domain(reader), reader
    assert not domain.does_custom_action_explicitly_need_domain("action_check_stock")
