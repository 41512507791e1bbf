"""What the bot would do: Rasa's own processor run on a copy of a paused conversation.

Runs inside the Rasa server (see `bot.assist.channel`). A draft takes the conversation's events up
to its latest customer message, lets the message be read as the bot read it (or as one of the next
most likely intents), resumes the copy and runs Rasa's prediction loop on it: the same policies,
forms and actions against the shop database, rendered by the persona NLG endpoint. The copy is
never saved, its replies go to a collecting channel, and the action server is told (signed
`X-Shop-Assist` header) to roll the actions' database work back.

`perform` does it for real once an agent sends a suggestion: the actions write, the tracker keeps
their events, and the customer receives the agent's (possibly edited) text instead of the bot's.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.core.actions.action import action_for_name_or_text
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from shop import assist_mode
from shop.conversation import is_external_intent, latest_customer_index

FALLBACK_INTENT = "nlu_fallback"
MAX_ALTERNATIVE_INTENTS = 4
MIN_SUGGESTIONS = 3
UTTER_PREFIX = "utter_"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Responses that grant money, and the fact that holds the amount.
COMPENSATIONS = {
    "utter_price_protection_compensated": "difference_fen",
    "utter_complaint_recorded": "compensation_fen",
}
ESCALATIONS = ("utter_price_protection_escalated", "utter_complaint_escalated")


class StaleMessage(Exception):
    """The customer wrote again (or the message is gone) since the suggestion was drafted."""


@dataclass
class Suggestion:
    """One ranked suggestion as the console shows it."""

    rank: int
    source: str  # "bot" | "intent" | "response"
    intent: Optional[str]
    confidence: Optional[float]
    messages: List[Dict[str, Any]]
    responses: List[str]
    action: Optional[str] = None
    compensation_fen: int = 0
    escalation: bool = False

    @property
    def text(self) -> str:
        """The texts of its messages, one per line."""
        return "\n".join(str(m["text"]) for m in self.messages if m.get("text"))

    @property
    def cards(self) -> List[Dict[str, Any]]:
        """Its custom payloads (product, order, logistics cards)."""
        return [m["custom"] for m in self.messages if isinstance(m.get("custom"), dict)]

    @property
    def key(self) -> str:
        """What tells two suggestions apart for the customer."""
        return hashlib.sha1(repr((self.text, self.cards)).encode()).hexdigest()

    def as_dict(self) -> Dict[str, Any]:
        """The suggestion in JSON form."""
        return {
            "rank": self.rank,
            "source": self.source,
            "intent": self.intent,
            "action": self.action,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "text": self.text,
            "cards": self.cards,
            "buttons": [b for m in self.messages for b in (m.get("buttons") or [])],
            "responses": list(self.responses),
            "compensation_fen": self.compensation_fen,
            "escalation": self.escalation,
        }


class _SocketIOCollector(CollectingOutputChannel):
    """Collects replies, rendered as they would be for the widget's channel."""

    @classmethod
    def name(cls) -> str:
        """The widget's channel name (the renderer may format per channel)."""
        return "socketio"


@dataclass
class _RecordingNLG(NaturalLanguageGenerator):
    """The processor's NLG, noting each response name and the facts an action passed."""

    inner: NaturalLanguageGenerator
    used: List[Tuple[str, Dict[str, Any]]] = field(default_factory=list)

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> Optional[Dict[str, Any]]:
        """Renders through the real NLG and remembers what was asked for."""
        self.used.append((utter_action, dict(kwargs)))
        return await self.inner.generate(utter_action, tracker, output_channel, **kwargs)


@dataclass
class _Run:
    messages: List[Dict[str, Any]]
    used: List[Tuple[str, Dict[str, Any]]]


def customer_message_index(tracker: DialogueStateTracker) -> Optional[int]:
    """Index in `tracker.events` of the latest message the customer typed (`shop.conversation`)."""
    return latest_customer_index(
        [event.as_dict() if isinstance(event, UserUttered) else {} for event in tracker.events]
    )


def _with_intent(user: UserUttered, intent: str, confidence: float, **metadata: Any) -> UserUttered:
    parse = copy.deepcopy(user.parse_data)
    parse["intent"] = {"name": intent, "confidence": confidence}
    return UserUttered(
        text=user.text,
        intent=parse["intent"],
        entities=list(user.entities),
        parse_data=parse,
        timestamp=None,
        input_channel=user.input_channel,
        message_id=user.message_id,
        metadata={**(user.metadata or {}), **metadata},
    )


@dataclass
class _Ranking:
    """Suggestions in the order found, without two that would tell the customer the same."""

    found: List[Suggestion] = field(default_factory=list)
    seen: set = field(default_factory=set)

    def keep(
        self,
        run: _Run,
        source: str,
        intent: Optional[str],
        confidence: Optional[float],
        action: Optional[str] = None,
    ) -> None:
        """Ranks a drafted run next, unless it says nothing or repeats an earlier one."""
        suggestion = Suggestion(
            rank=len(self.found) + 1,
            source=source,
            intent=intent,
            confidence=confidence,
            messages=run.messages,
            responses=[name for name, _ in run.used],
            action=action,
        )
        _money(suggestion, run.used)
        if not suggestion.messages or suggestion.key in self.seen:
            return
        self.seen.add(suggestion.key)
        self.found.append(suggestion)


class Drafter:
    """Drafts and performs suggestions with one Rasa processor."""

    def __init__(self, processor: MessageProcessor, signing_key: str) -> None:
        """Keeps the processor (its domain, policies, NLG and action endpoint)."""
        self.processor = processor
        self.key = signing_key

    def _processor(self, mode: str, authority_fen: int, nlg: NaturalLanguageGenerator) -> Any:
        endpoint: Optional[EndpointConfig] = self.processor.action_endpoint
        clone = copy.copy(self.processor)
        if endpoint is not None:
            headers = dict(endpoint.headers or {})
            headers[assist_mode.HEADER] = assist_mode.header_value(mode, authority_fen, self.key)
            clone.action_endpoint = EndpointConfig(
                url=endpoint.url,
                params=endpoint.params,
                headers=headers,
                basic_auth=endpoint.basic_auth,
                token=endpoint.token,
                token_name=endpoint.token_name,
                cafile=endpoint.cafile,
                **endpoint.kwargs,  # the call's timeout and cool-down (bot/remote_actions.py)
            )
        clone.nlg = nlg
        return clone

    async def _run(
        self,
        tracker: DialogueStateTracker,
        mode: str,
        authority_fen: int,
        only_action: Optional[str] = None,
    ) -> _Run:
        """Runs the prediction loop (or one named response) on `tracker`, which it changes."""
        nlg = _RecordingNLG(self.processor.nlg)
        processor = self._processor(mode, authority_fen, nlg)
        collector = _SocketIOCollector()
        if only_action is None:
            await processor._run_prediction_loop(collector, tracker)
        else:  # one response, uttered the way the loop utters it
            domain = self.processor.domain
            action = action_for_name_or_text(only_action, domain, processor.action_endpoint)
            events = await action.run(collector, nlg, tracker, domain)
            await processor.execute_side_effects(events, tracker, collector)
        messages = [
            {k: v for k, v in m.items() if k != "recipient_id" and v is not None}
            for m in collector.messages
        ]
        return _Run(messages, nlg.used)

    def _ranked_actions(self, tracker: DialogueStateTracker) -> List[Tuple[str, float]]:
        """Every action with the probability the policies give it next, likeliest first."""
        probe = tracker.copy()
        prediction = self.processor._predict_next_with_tracker(probe)
        names = self.processor.domain.action_names_or_texts
        return sorted(
            ((names[i], p) for i, p in enumerate(prediction.probabilities) if i < len(names)),
            key=lambda pair: -pair[1],
        )

    async def _conversation(
        self, conversation_id: str
    ) -> Tuple[DialogueStateTracker, int, UserUttered]:
        """The stored conversation, and the index and event of its latest customer message."""
        tracker = await self.processor.tracker_store.retrieve(conversation_id)
        if tracker is None:
            raise StaleMessage("no such conversation")
        index = customer_message_index(tracker)
        if index is None:
            raise StaleMessage("no customer message yet")
        user = list(tracker.events)[index]
        assert isinstance(user, UserUttered)
        return tracker, index, user

    def _resumed(
        self, tracker: DialogueStateTracker, index: int, user: UserUttered
    ) -> DialogueStateTracker:
        events = list(tracker.events)[:index]
        copy_ = DialogueStateTracker.from_events(
            tracker.sender_id, events, slots=self.processor.domain.slots
        )
        copy_.update(ConversationResumed())
        copy_.update(user, self.processor.domain)
        return copy_

    async def _draft_one(
        self, tracker: DialogueStateTracker, index: int, user: UserUttered, authority_fen: int
    ) -> _Run:
        run_on = self._resumed(tracker, index, user)
        run_on = await self._processor(
            "draft", authority_fen, self.processor.nlg
        ).run_action_extract_slots(_SocketIOCollector(), run_on)
        return await self._run(run_on, "draft", authority_fen)

    async def suggest(
        self, conversation_id: str, authority_fen: int, wanted: int = MIN_SUGGESTIONS
    ) -> Dict[str, Any]:
        """At least `wanted` ranked suggestions for the latest customer message.

        Args:
            conversation_id: The conversation.
            authority_fen: The assisting agent's compensation authority.
            wanted: How many distinct suggestions to find (more may be returned).

        Returns:
            `{"message_id", "text", "intent", "confidence", "suggestions": [...]}`.

        Raises:
            StaleMessage: when the conversation has no customer message.
        """
        tracker, index, user = await self._conversation(conversation_id)
        top = user.intent or {}
        ranking = _Ranking()
        real = await self._draft_one(tracker, index, user, authority_fen)
        ranking.keep(real, "bot", top.get("name"), _float(top.get("confidence")))
        for name, confidence in _alternative_intents(user)[:MAX_ALTERNATIVE_INTENTS]:
            if len(ranking.found) >= wanted:
                break
            other = _with_intent(user, name, confidence)
            run = await self._draft_one(tracker, index, other, authority_fen)
            ranking.keep(run, "intent", name, confidence)
        if len(ranking.found) < wanted:
            after_user = self._resumed(tracker, index, user)
            await self._fill_with_responses(after_user, authority_fen, ranking, wanted)
        return {
            "message_id": user.message_id,
            "text": user.text,
            "intent": top.get("name"),
            "confidence": _float(top.get("confidence")),
            "suggestions": [s.as_dict() for s in ranking.found],
        }

    async def _fill_with_responses(
        self, after_user: DialogueStateTracker, authority_fen: int, ranking: "_Ranking", wanted: int
    ) -> None:
        """Adds the next most likely responses that need no facts from an action."""
        for name, probability in self._ranked_actions(after_user):
            if len(ranking.found) >= wanted:
                break
            if name.startswith(UTTER_PREFIX) and self._renders_from_slots(name):
                run = await self._run(after_user.copy(), "draft", authority_fen, only_action=name)
                ranking.keep(run, "response", None, float(probability), action=name)

    def _renders_from_slots(self, response: str) -> bool:
        """Whether every variant of a response fills its placeholders from slots alone."""
        domain = self.processor.domain
        variants = domain.responses.get(response) or []
        slots = {slot.name for slot in domain.slots}
        return bool(variants) and all(
            set(PLACEHOLDER.findall(str(v.get("text") or ""))) <= slots for v in variants
        )

    async def perform(
        self,
        conversation_id: str,
        message_id: Optional[str],
        choice: Dict[str, Any],
        authority_fen: int,
        agent_events: Sequence[Dict[str, Any]],
    ) -> List[Event]:
        """Does what a sent suggestion stands for and records it, on the real tracker.

        Args:
            conversation_id: The conversation (its lock must be held by the caller).
            message_id: The customer message the suggestion answers.
            choice: `{"source", "intent", "action"}` of the sent suggestion.
            authority_fen: The sending agent's compensation authority.
            agent_events: The agent's message events (JSON) that replace the bot's replies.

        Returns:
            The events appended to the tracker (already saved).

        Raises:
            StaleMessage: when the customer wrote again meanwhile.
        """
        tracker, index, user = await self._conversation(conversation_id)
        if message_id != user.message_id:
            raise StaleMessage("the customer wrote again")
        work = tracker.copy()
        start = len(work.events)
        source, intent = choice.get("source"), choice.get("intent")
        if source == "intent" and intent and intent != user.intent_name:
            work.update(UserUtteranceReverted())
            corrected = _with_intent(
                user,
                str(intent),
                float(choice.get("confidence") or 0.0),
                assist_corrected_from=user.intent_name,
                assist_agent=str(choice.get("agent") or ""),
            )
            work.update(corrected, self.processor.domain)
            work = await self._processor(
                "live", authority_fen, self.processor.nlg
            ).run_action_extract_slots(_SocketIOCollector(), work)
        if source in ("bot", "intent"):
            work.update(ConversationResumed())
            await self._run(work, "live", authority_fen)
        produced = [
            e
            for e in list(work.events)[start:]
            if not isinstance(e, (BotUttered, ConversationResumed, ConversationPaused))
        ]
        if produced and getattr(produced[-1], "action_name", None) != ACTION_LISTEN_NAME:
            produced.append(ActionExecuted(ACTION_LISTEN_NAME))
        appended = produced + [Event.from_parameters(dict(e)) for e in agent_events]
        tracker.update_with_events(appended, self.processor.domain)
        await self.processor.save_tracker(tracker)
        return appended


def _float(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) else None


def _alternative_intents(user: UserUttered) -> List[Tuple[str, float]]:
    """The next most likely intents after the one the bot read (never the fallback)."""
    top = user.intent_name
    ranking = user.parse_data.get("intent_ranking") or []
    found = []
    for item in ranking:
        name = item.get("name") if isinstance(item, dict) else None
        if not name or name in (top, FALLBACK_INTENT) or is_external_intent(name):
            continue
        found.append((str(name), float(item.get("confidence") or 0.0)))
    return found


def _money(suggestion: Suggestion, used: List[Tuple[str, Dict[str, Any]]]) -> None:
    for name, facts in used:
        fact = COMPENSATIONS.get(name)
        if fact and isinstance(facts.get(fact), int):
            suggestion.compensation_fen = max(suggestion.compensation_fen, int(facts[fact]))
        if name in ESCALATIONS:
            suggestion.escalation = True


def output_channel_of(app: Any, name: str = "socketio") -> Optional[OutputChannel]:
    """The named input channel's output channel on a running Rasa server."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == name:
            return channel.get_output_channel()
    return None
