"""The persona slot changes only on an explicit choice (domain.yml mapping, run by Rasa itself)."""

import asyncio

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


def persona_after(domain, text, intent, value):
    tracker = DialogueStateTracker.from_events("persona-slot", [], slots=domain.slots)
    entity = {"entity": "persona", "value": value, "start": 0, "end": 2}
    tracker.update(UserUttered(text, {"name": intent, "confidence": 1.0}, [entity]))
    events = asyncio.run(
        ActionExtractSlots(None).run(CollectingOutputChannel(), None, tracker, domain)
    )
    return [e.value for e in events if isinstance(e, SlotSet) and e.key == "persona"]


def test_a_persona_word_in_a_shopping_question_does_not_switch_the_voice(domain):
    assert persona_after(domain, "松鼠家的坚果有货吗", "ask_stock", "master") == []
    assert persona_after(domain, "有没有专业一点的油烟机", "ask_product_info", "advisor") == []


def test_an_explicit_choice_and_the_widget_picker_still_switch_it(domain):
    assert persona_after(domain, "我要疯癫组的客服", "choose_persona", "crazy") == ["crazy"]
    # the widget's picker and the persona buttons send /choose_persona{"persona": "<id>"}
    payload = '/choose_persona{"persona": "lady"}'
    assert persona_after(domain, payload, "choose_persona", "lady") == ["lady"]
