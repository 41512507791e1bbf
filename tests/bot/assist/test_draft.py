"""What the drafter does without a trained model: ranking, intents, copies, headers, one response.

The processor is Rasa's own `MessageProcessor` without its model (`__new__`, then the domain,
NLG, action endpoint and tracker store it uses): everything here that does not predict.
"""

import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.assist import draft
from bot.assist.draft import Drafter, StaleMessage, Suggestion, customer_message_index
from shop import assist_mode

KEY = "draft-test-key"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, ask_delivery_time, track_logistics, ask_invoice, nlu_fallback]
slots:
  persona:
    type: text
    mappings: [{type: custom}]
  order_id:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet:
    - text: "亲，您好"
  utter_persona:
    - text: "当前人设：{persona}"
  utter_order:
    - text: "订单{order_id}已发货"
    - text: "订单已发货"
  utter_refund:
    - text: "退您{difference_fen}分"
    - text: "已退款"
"""
)


def user(text, intent="ask_delivery_time", message_id="m1", ranking=()):
    parse = {
        "intent": {"name": intent, "confidence": 0.8},
        "entities": [],
        "text": text,
        "intent_ranking": [{"name": intent, "confidence": 0.8}, *ranking],
    }
    return UserUttered(text, parse["intent"], [], parse, message_id=message_id)


def conversation(*events, sender="c-1"):
    return DialogueStateTracker.from_events(
        sender, [ActionExecuted(ACTION_LISTEN_NAME), *events], slots=DOMAIN.slots
    )


def processor(endpoint=None, store=None):
    found = MessageProcessor.__new__(MessageProcessor)
    found.domain = DOMAIN
    found.nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    found.action_endpoint = endpoint
    found.tracker_store = store or InMemoryTrackerStore(DOMAIN)
    return found


def run(messages, used=()):
    return draft._Run(list(messages), list(used))


# ---- suggestions and their ranking


def test_a_suggestion_joins_its_texts_and_keeps_cards_and_buttons():
    buttons = [{"title": "是", "payload": "/affirm"}]
    found = Suggestion(
        rank=2,
        source="intent",
        intent="track_logistics",
        confidence=0.123456,
        messages=[
            {"text": "亲，包裹在路上"},
            {"custom": {"card": "logistics", "waybill": "SF1"}},
            {"text": "要帮您催一下吗", "buttons": buttons},
            {"custom": "not a card"},
        ],
        responses=["utter_logistics", "utter_ask_chase"],
    )
    assert found.text == "亲，包裹在路上\n要帮您催一下吗"
    assert found.cards == [{"card": "logistics", "waybill": "SF1"}]
    shown = found.as_dict()
    assert shown["confidence"] == 0.123 and shown["buttons"] == buttons
    assert shown["responses"] == ["utter_logistics", "utter_ask_chase"]
    assert (shown["rank"], shown["source"], shown["compensation_fen"]) == (2, "intent", 0)
    assert Suggestion(1, "bot", None, None, [], []).as_dict()["confidence"] is None


def test_ranking_skips_empty_drafts_and_ones_the_customer_would_read_the_same():
    ranking = draft._Ranking()
    ranking.keep(run([{"text": "亲，今天发货"}]), "bot", "ask_delivery_time", 0.9)
    ranking.keep(run([]), "intent", "greet", 0.05)  # says nothing
    ranking.keep(run([{"text": "亲，今天发货"}]), "intent", "track_logistics", 0.03)  # the same
    ranking.keep(
        run([{"text": "亲，今天发货"}, {"custom": {"card": "order"}}]),
        "intent",
        "ask_invoice",
        0.02,
    )
    ranking.keep(run([{"text": "亲，您好"}]), "response", None, 0.01, action="utter_greet")
    assert [(s.rank, s.source, s.intent) for s in ranking.found] == [
        (1, "bot", "ask_delivery_time"),
        (2, "intent", "ask_invoice"),  # a card makes it different
        (3, "response", None),
    ]
    assert ranking.found[2].action == "utter_greet"


def test_money_and_escalations_a_draft_promises_are_marked():
    ranking = draft._Ranking()
    used = [
        ("utter_price_protection_compensated", {"difference_fen": 1200}),
        ("utter_complaint_recorded", {"compensation_fen": 3000}),
        ("utter_complaint_recorded", {"compensation_fen": "9999"}),  # not an amount
    ]
    ranking.keep(run([{"text": "补您30元"}], used), "bot", "complain", 0.9)
    ranking.keep(
        run([{"text": "已为您升级处理"}], [("utter_complaint_escalated", {})]), "bot", None, 0.5
    )
    ranking.keep(run([{"text": "亲，您好"}], [("utter_greet", {})]), "response", None, 0.1)
    compensated, escalated, plain = ranking.found
    assert (compensated.compensation_fen, compensated.escalation) == (3000, False)
    assert (escalated.compensation_fen, escalated.escalation) == (0, True)
    assert (plain.compensation_fen, plain.escalation) == (0, False)
    assert compensated.responses == [name for name, _ in used]


# ---- the customer message a draft answers


def test_alternative_intents_leave_out_the_bots_reading_the_fallback_and_notices():
    message = user(
        "发票呢",
        intent="ask_invoice",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "EXTERNAL_shipping_notice", "confidence": 0.4},
            {"name": "track_logistics", "confidence": 0.3},
            {"name": None, "confidence": 0.2},
            "not an entry",
            {"name": "greet"},
        ],
    )
    assert draft._alternative_intents(message) == [("track_logistics", 0.3), ("greet", 0.0)]


def test_reading_a_message_as_another_intent_keeps_the_message_and_leaves_it_unchanged():
    message = user("快递到哪了", ranking=[{"name": "track_logistics", "confidence": 0.1}])
    message.metadata = {"customer_id": 7}
    other = draft._with_intent(message, "track_logistics", 0.1, assist_agent="xiaomei")
    assert (other.text, other.message_id) == ("快递到哪了", "m1")
    assert other.intent_name == "track_logistics"
    assert other.parse_data["intent"] == {"name": "track_logistics", "confidence": 0.1}
    assert other.metadata == {"customer_id": 7, "assist_agent": "xiaomei"}
    assert message.intent_name == "ask_delivery_time"
    assert message.parse_data["intent"]["name"] == "ask_delivery_time"


def test_the_latest_customer_message_is_found_by_its_index_in_the_tracker():
    tracker = conversation(
        user("在吗", intent="greet", message_id="m0"),
        BotUttered("亲，您好"),
        user("快递到哪了", message_id="m1"),
        UserUttered.create_external("EXTERNAL_shipping_notice"),
        user("/greet", intent="greet", message_id="m2"),
        BotUttered("亲，在的"),
    )
    index = customer_message_index(tracker)
    assert index is not None and tracker.events[index].message_id == "m1"
    assert customer_message_index(conversation(user("/greet", intent="greet"))) is None


# ---- the processor a draft runs with


def test_a_draft_calls_the_actions_with_a_signed_draft_header_on_a_copy():
    endpoint = EndpointConfig("http://actions:5055/webhook", headers={"X-Other": "1"}, token="t")
    real = processor(endpoint)
    nlg = draft._RecordingNLG(real.nlg)
    clone = Drafter(real, KEY)._processor("draft", 5000, nlg)
    headers = clone.action_endpoint.headers
    assert assist_mode.read_header(headers[assist_mode.HEADER], KEY) == ("draft", 5000)
    assert headers["X-Other"] == "1" and clone.action_endpoint.url == endpoint.url
    assert clone.action_endpoint.token == "t"
    assert clone.nlg is nlg
    assert real.action_endpoint is endpoint and assist_mode.HEADER not in endpoint.headers
    assert real.nlg is not nlg
    live = Drafter(real, KEY)._processor("live", 20000, real.nlg)
    assert assist_mode.read_header(live.action_endpoint.headers[assist_mode.HEADER], KEY) == (
        "live",
        20000,
    )
    assert assist_mode.read_header(headers[assist_mode.HEADER], "another-key") is None


def test_without_an_action_endpoint_the_copy_has_none_either():
    clone = Drafter(processor(None), KEY)._processor("draft", 0, processor().nlg)
    assert clone.action_endpoint is None


def test_the_resumed_copy_ends_with_the_message_and_the_conversation_is_untouched():
    message = user("快递到哪了", message_id="m1")
    tracker = conversation(
        user("在吗", intent="greet", message_id="m0"),
        BotUttered("亲，您好"),
        ConversationPaused(),
        message,
        BotUttered("客服小美已加入对话", metadata={"sender": "system"}),
    )
    before = list(tracker.events)
    index = customer_message_index(tracker)
    copy = Drafter(processor(), KEY)._resumed(tracker, index, message)
    assert tracker.is_paused() and list(tracker.events) == before
    assert not copy.is_paused()
    assert copy.latest_message.text == "快递到哪了"
    assert not any(
        isinstance(e, BotUttered) and e.text == "客服小美已加入对话" for e in copy.events
    )


def test_only_responses_filled_from_slots_alone_are_drafted_without_an_action():
    drafter = Drafter(processor(), KEY)
    assert drafter._renders_from_slots("utter_greet")
    assert drafter._renders_from_slots("utter_persona")
    assert drafter._renders_from_slots("utter_order")
    assert not drafter._renders_from_slots("utter_refund")  # needs an action's fact
    assert not drafter._renders_from_slots("utter_no_such_response")


def test_one_response_is_rendered_into_the_collector_and_remembered():
    tracker = conversation(SlotSet("persona", "lady"), user("你是谁"))
    drafted = asyncio.run(
        Drafter(processor(), KEY)._run(tracker, "draft", 5000, only_action="utter_persona")
    )
    assert drafted.messages == [{"text": "当前人设：lady"}]  # no recipient, no empty fields
    assert [name for name, _ in drafted.used] == ["utter_persona"]


def test_the_collector_speaks_as_the_widgets_channel_and_keeps_what_it_got():
    collector = draft._SocketIOCollector()
    assert collector.name() == "socketio"
    asyncio.run(collector.send_text_message("c-1", "亲，在的"))
    assert collector.messages == [{"recipient_id": "c-1", "text": "亲，在的"}]


def test_the_recording_nlg_renders_through_the_real_one():
    nlg = draft._RecordingNLG(TemplatedNaturalLanguageGenerator(DOMAIN.responses))
    tracker = conversation(SlotSet("order_id", "E1"))
    rendered = asyncio.run(nlg.generate("utter_order", tracker, "socketio", card={"card": "x"}))
    assert rendered["text"] in ("订单E1已发货", "订单已发货")
    assert nlg.used == [("utter_order", {"card": {"card": "x"}})]


# ---- performing a sent suggestion


def stored(*events):
    store = InMemoryTrackerStore(DOMAIN)
    asyncio.run(store.save(conversation(*events)))
    return store


def agent_message(text):
    return {"event": "bot", "text": text, "metadata": {"sender": "agent", "agent": "xiaomei"}}


def test_a_sent_response_suggestion_records_the_agents_message_on_the_real_tracker():
    store = stored(ConversationPaused(), user("快递到哪了", message_id="m1"))
    appended = asyncio.run(
        Drafter(processor(store=store), KEY).perform(
            "c-1", "m1", {"source": "response"}, 5000, [agent_message("亲，马上帮您查")]
        )
    )
    assert [type(e) for e in appended] == [BotUttered]
    saved = asyncio.run(store.retrieve("c-1"))
    assert saved.events[-1].text == "亲，马上帮您查"
    assert saved.events[-1].metadata["sender"] == "agent"
    assert saved.is_paused()  # the agent still holds the conversation


@pytest.mark.parametrize(
    "events, message_id, why",
    [
        ((user("快递到哪了", message_id="m1"), user("还在吗", message_id="m2")), "m1", "again"),
        ((user("/greet", intent="greet", message_id="m1"),), "m1", "no customer message"),
    ],
)
def test_a_stale_suggestion_is_refused_and_nothing_is_recorded(events, message_id, why):
    store = stored(*events)
    before = len(asyncio.run(store.retrieve("c-1")).events)
    drafter = Drafter(processor(store=store), KEY)
    with pytest.raises(StaleMessage, match=why):
        asyncio.run(
            drafter.perform("c-1", message_id, {"source": "response"}, 0, [agent_message("x")])
        )
    with pytest.raises(StaleMessage, match="no such conversation"):
        asyncio.run(drafter.perform("c-9", "m1", {"source": "response"}, 0, []))
    assert len(asyncio.run(store.retrieve("c-1")).events) == before


# ---- the Rasa server's output channel


class _Widget(InputChannel):
    def __init__(self, output):
        self.output = output

    @classmethod
    def name(cls):
        return "socketio"

    def get_output_channel(self):
        return self.output


def test_the_output_channel_is_the_named_input_channels_own():
    output = CollectingOutputChannel()
    app = SimpleNamespace(ctx=SimpleNamespace(input_channels=[InputChannel(), _Widget(output)]))
    assert draft.output_channel_of(app) is output
    assert draft.output_channel_of(app, "rest") is None
    assert draft.output_channel_of(SimpleNamespace(ctx=SimpleNamespace())) is None
