"""Rasa's response validation with compiled schemas accepts and refuses exactly what Rasa's does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.assist import validation

ACTION_ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "E1"}], "responses": [{}]},
    {"events": [{"event": "followup", "name": "action_listen"}]},
    {},
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"responses": [1, 2]},
    [],
]
NLG_ANSWERS = [
    None,
    "",
    {"text": "亲，在的"},
    {"text": "亲", "buttons": [{"title": "是", "payload": "/affirm"}], "custom": {"card": "x"}},
    {"text": None, "image": None},
    {"text": 5},
    {"buttons": "not a list"},
    {"buttons": [{"title": "是"}]},
]


@pytest.fixture
def rasas_own(monkeypatch):
    """Rasa's original checks; whatever `install` replaces is put back after the test."""
    original_action = RemoteAction._validate_action_result
    original_nlg = CallbackNaturalLanguageGenerator.validate_response
    monkeypatch.setattr(RemoteAction, "_validate_action_result", original_action)
    monkeypatch.setattr(
        CallbackNaturalLanguageGenerator, "validate_response", staticmethod(original_nlg)
    )
    return original_action, original_nlg


def outcome(check, *args):
    try:
        return check(*args)
    except Exception as error:  # noqa: BLE001 - the kind of error is what is compared
        return type(error)


def test_install_replaces_both_checks(rasas_own):
    original_action, original_nlg = rasas_own
    validation.install()
    validation.install()  # idempotent
    assert RemoteAction._validate_action_result is not original_action
    assert CallbackNaturalLanguageGenerator.validate_response is not original_nlg


@pytest.mark.parametrize("answer", ACTION_ANSWERS)
def test_action_answers_are_judged_as_rasa_judges_them(rasas_own, answer):
    action = RemoteAction("action_check_order_status", EndpointConfig("http://actions/webhook"))
    before = outcome(action._validate_action_result, answer)
    validation.install()
    after = outcome(action._validate_action_result, answer)
    assert after == before
    assert after in (True, ValidationError)


def test_a_refused_action_answer_says_how_to_fix_it(rasas_own):
    validation.install()
    action = RemoteAction("action_x", EndpointConfig("http://actions/webhook"))
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


@pytest.mark.parametrize("answer", NLG_ANSWERS)
def test_nlg_answers_are_judged_as_rasa_judges_them(rasas_own, answer):
    before = outcome(CallbackNaturalLanguageGenerator.validate_response, answer)
    validation.install()
    after = outcome(CallbackNaturalLanguageGenerator.validate_response, answer)
    assert after == before
    assert after in (True, RasaException)


def test_both_kinds_of_answer_are_refused_somewhere_in_the_samples(rasas_own):
    """The parity tests above would prove little if every sample were accepted."""
    action = RemoteAction("action_x", EndpointConfig("http://actions/webhook"))
    refused_actions = [
        a for a in ACTION_ANSWERS if outcome(action._validate_action_result, a) is not True
    ]
    refused_nlg = [
        a
        for a in NLG_ANSWERS
        if outcome(CallbackNaturalLanguageGenerator.validate_response, a) is not True
    ]
    assert len(refused_actions) >= 3 and len(refused_nlg) >= 2
