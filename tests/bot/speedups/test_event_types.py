"""Event classes found by name once (bot/speedups/event_types.py): the same answers as Rasa's search."""

import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered, deserialise_events
from rasa.shared.utils.common import all_subclasses

from bot.speedups import event_types

RASA_SEARCH = Event.__dict__["resolve_by_type"].__func__


def counted(calls):
    def search(type_name, default=None):
        calls.append(type_name)
        return RASA_SEARCH(type_name, default)

    return search


def test_every_event_name_finds_the_class_rasa_finds_and_searches_once():
    calls = []
    lookup = event_types.remembering(counted(calls))
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for _ in range(3):
        for name in names:
            assert lookup(name) is RASA_SEARCH(name)
    assert sorted(calls) == sorted(names)


def test_unknown_names_answer_as_rasa_does_every_time():
    calls = []
    lookup = event_types.remembering(counted(calls))
    for _ in range(2):
        with pytest.raises(ValueError, match="no_such_event"):
            lookup("no_such_event")
        assert lookup("no_such_event", SlotSet) is SlotSet
        assert lookup("topic") is None
    assert calls.count("no_such_event") == 4


def test_installed_once_and_stored_events_read_back_the_same(monkeypatch):
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    event_types.install()
    installed = Event.resolve_by_type
    event_types.install()
    assert Event.resolve_by_type is installed
    assert installed.remembering
    events = [
        ActionExecuted("action_listen"),
        UserUttered("还有货吗", {"name": "ask_stock", "confidence": 0.9}),
        SlotSet("product", "H16"),
    ]
    stored = [event.as_dict() for event in events]
    assert deserialise_events(stored) == events
    assert deserialise_events(stored) == events
