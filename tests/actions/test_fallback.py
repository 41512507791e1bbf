import asyncio

from actions.fallback import ActionDefaultAskAffirmation, intent_labels, likeliest_intents
from tests.actions.conftest import make_tracker

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.4},
    {"name": "request_return", "confidence": 0.35},
    {"name": "affirm", "confidence": 0.2},
    {"name": "request_exchange", "confidence": 0.3},
    {"name": "ask_refund_status", "confidence": 0.1},
]


def test_likeliest_intents_skip_fallback_and_yes_no():
    assert likeliest_intents({"intent_ranking": RANKING}) == ["request_return", "request_exchange"]


def test_every_intent_a_customer_can_type_has_a_label():
    import yaml

    domain = yaml.safe_load(open("domain.yml", encoding="utf-8"))
    typed = {intent for intent in domain["intents"] if not intent.startswith("EXTERNAL_")}
    assert len(typed) >= 33
    assert typed <= set(intent_labels())


def test_affirmation_offers_two_intents_and_something_else(dispatcher):
    tracker = make_tracker("退那个换", intent="nlu_fallback", ranking=RANKING)
    events = asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, {}))
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_affirmation"
    payloads = [choice["payload"] for choice in message["choices"]]
    assert payloads == ["/request_return", "/request_exchange", "/out_of_scope"]
    assert message["choices"][0]["title"] == intent_labels()["request_return"]
    assert not message["buttons"]  # the renderer makes them, in the conversation's script


def test_a_message_without_known_words_is_asked_to_be_rephrased(dispatcher):
    tracker = make_tracker("zxqv blorp", intent="nlu_fallback", ranking=RANKING)
    tracker.latest_message["unknown_words"] = True
    asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_rephrase"
    assert not message.get("buttons") and not message.get("choices")
