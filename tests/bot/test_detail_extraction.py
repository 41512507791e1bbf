"""Rasa skips the detail reader's call only where the reader would have set nothing."""

import asyncio
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.kit.details import DETAIL_SLOTS, RECALLED_SLOTS, ActionExtractDetails
from bot.detail_extraction import (
    DETAILS_ACTION,
    RECALLED_KINDS,
    DetailAwareExtractSlots,
    may_change_details,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(ROOT / "domain.yml")
ORDER = "2024112300123"


def said(text, intent="inform", entities=()):
    return UserUttered(
        text, intent={"name": intent, "confidence": 1.0}, entities=[dict(e) for e in entities]
    )


def conversation(*events):
    return DialogueStateTracker.from_events(
        "customer",
        [ActionExecuted("action_session_start"), SessionStarted(), *events],
        slots=DOMAIN.slots,
    )


def action_events(tracker):
    """What the real action returns for this conversation."""
    state = tracker.current_state(EventVerbosity.ALL)
    sdk_tracker = Tracker.from_dict(state)
    return asyncio.run(ActionExtractDetails().run(CollectingDispatcher(), sdk_tracker, {}))


CASES = {
    "a plain question": (conversation(said("这款电热水壶还有货吗", "ask_stock")), False),
    "an order number": (conversation(said(f"订单{ORDER}到哪了", "track_logistics")), True),
    "a height in words": (conversation(said("一米七 穿什么码", "ask_size")), True),
    "a letter size": (conversation(said("要XL的", "inform")), True),
    "a labelled tail": (
        conversation(said("就是这个", entities=[{"entity": "phone_tail", "value": "4245"}])),
        True,
    ),
    "four digits while the tail is asked": (
        conversation(SlotSet("requested_slot", "phone_tail"), said("4245")),
        True,
    ),
    "an order number to recall": (
        conversation(
            said(f"{ORDER}", "inform"),
            SlotSet("order_id", None),
            said("怎么还没发货", "ask_dispatch"),
        ),
        True,
    ),
    "order and tail already known": (
        conversation(
            said(f"订单{ORDER} 尾号4245", "inform"),
            SlotSet("order_id", ORDER),
            SlotSet("phone_tail", "4245"),
            said("怎么还没发货", "ask_dispatch"),
        ),
        False,
    ),
    "an order in an earlier session": (
        DialogueStateTracker.from_events(
            "customer",
            [
                SessionStarted(),
                said(f"订单{ORDER}", "inform"),
                ActionExecuted("action_session_start"),
                SessionStarted(),
                said("还有货吗", "ask_stock"),
            ],
            slots=DOMAIN.slots,
        ),
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_call_is_skipped_only_where_the_action_sets_nothing(case):
    tracker, expected = CASES[case]
    assert may_change_details(tracker) is expected
    if not expected:
        assert action_events(tracker) == []


def test_every_case_the_action_answers_with_slots_is_one_rasa_calls_it_for():
    for case, (tracker, expected) in CASES.items():
        if action_events(tracker):
            assert expected, case


class RecordingExtractSlots(DetailAwareExtractSlots):
    """Rasa's slot extraction with the action server calls recorded instead of made."""

    def __init__(self):
        super().__init__(None)
        self.called = []

    async def _run_custom_action(self, custom_action, output_channel, nlg, tracker, domain):
        self.called.append(custom_action)
        return []


def extraction_calls(tracker):
    extraction = RecordingExtractSlots()
    asyncio.run(
        extraction.run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator(DOMAIN.responses),
            tracker,
            DOMAIN,
        )
    )
    return extraction.called


def test_rasa_calls_the_detail_reader_for_a_detail_and_not_for_a_plain_question():
    assert "action_extract_details" in extraction_calls(CASES["an order number"][0])
    assert "action_extract_details" not in extraction_calls(CASES["a plain question"][0])


def test_rasa_checks_the_slots_the_action_recalls_and_fills():
    assert set(RECALLED_KINDS) == set(RECALLED_SLOTS)
    mapped = {
        slot.name
        for slot in DOMAIN.slots
        if any(mapping.get("action") == DETAILS_ACTION for mapping in slot.mappings)
    }
    assert mapped == set(DETAIL_SLOTS)
