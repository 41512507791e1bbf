"""Sessions end after a number of events (and after the domain's silence), never mid-form or
while an agent has the conversation."""

import time
from types import SimpleNamespace

import pytest
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import session_cap

DOMAIN = """
version: "3.1"
session_config:
  session_expiration_time: {minutes}
  carry_over_slots_to_new_session: true
forms:
  order_lookup_form:
    required_slots: []
"""


def processor(minutes=720):
    return SimpleNamespace(domain=Domain.from_yaml(DOMAIN.format(minutes=minutes)))


def conversation(turns, *extra, said_at=None):
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    for _ in range(turns):
        events += [
            UserUttered("亲在吗", {"name": "greet", "confidence": 1.0}, timestamp=said_at),
            ActionExecuted("utter_greet"),
            BotUttered("亲，在的"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events("cap", [*events, *extra])


@pytest.fixture
def expired():
    return session_cap.capped(MessageProcessor._has_session_expired, max_events=40)


def test_a_long_session_ends_and_a_short_one_goes_on(expired):
    assert not expired(processor(), conversation(9))  # 38 events
    assert expired(processor(), conversation(10))  # 42 events


def test_silence_still_ends_a_session(expired):
    assert expired(processor(minutes=1), conversation(1, said_at=time.time() - 120))


def test_a_taken_over_or_form_filling_or_sessionless_conversation_goes_on(expired):
    assert not expired(processor(), conversation(12, ConversationPaused()))
    assert not expired(processor(), conversation(12, ActiveLoop("order_lookup_form")))
    assert not expired(processor(minutes=0), conversation(12))


def test_install_caps_rasas_processor_once(monkeypatch):
    original = MessageProcessor._has_session_expired
    monkeypatch.setattr(MessageProcessor, "_has_session_expired", original)
    monkeypatch.setenv(session_cap.ENV, "40")
    session_cap.install()
    installed = MessageProcessor._has_session_expired
    session_cap.install()
    assert MessageProcessor._has_session_expired is installed is not original
    assert installed(processor(), conversation(10))
    assert not original(processor(), conversation(10))
