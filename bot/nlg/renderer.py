"""One renderer for every reply: response name + tracker + facts → text, buttons, custom.

The request is Rasa's NLG request (``rasa/core/nlg/callback.py``)::

    {"response": "utter_x", "arguments": {...facts, "card": {...}}, "tracker": {...},
     "channel": {"name": "rest"}}

and the answer ``{"text": ..., "buttons": [...], "custom": {...}, "persona": "<id>"}``
(``custom`` is the action's ``card`` fact, see the card schema, its words in the customer's
script; ``persona`` is the persona the reply speaks in: Rasa keeps it in the bot message's
metadata and the socket.io channel passes it on, so the widget's persona picker follows a persona
the customer chose by typing). Facts are the tracker's slots, the entities of a proactive notice
(an ``EXTERNAL_*`` intent) and the action's arguments, in that order.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from bot.nlg import script, style, template
from bot.nlg.personas import DEFAULT_PERSONA, Persona, PersonaError, PersonaStore, Variant
from bot.nlg.profile import ProfileStyles
from shop.conversation import intent_name, is_external_intent
from shop.signing import signed_in_customer
from shop.text.normalise import to_simplified

logger = logging.getLogger(__name__)

# Keys of a rasa_sdk dispatcher message that are not facts.
MESSAGE_KEYS = {
    "text",
    "buttons",
    "elements",
    "custom",
    "template",
    "response",
    "image",
    "attachment",
    "json_message",
    "quick_replies",
    "domain_responses",
}
# Card fields that are never words (identifiers, states, addresses, times): kept as written when
# a card is turned into the customer's script; so are numbers and keys ending in _id, _at or url.
CARD_VERBATIM_KEYS = {"card", "status", "tracking_number", "time", "script"}
CARD_VERBATIM_SUFFIXES = ("_id", "_at", "url", "_fen")
# Said only when not even the default persona's file ever loaded.
LAST_RESORT = "亲，系统正在维护，请稍后再试；着急的话请说「转人工」，由人工客服为您处理~"


def _choices(facts: Mapping[str, Any]) -> List[Dict[str, str]]:
    """Buttons an action offers as its `choices` fact (`[{"title", "payload"}]`).

    Actions pass their options (complaint remedies, the likeliest intents) as a fact rather than
    as Rasa buttons, so the titles are turned into the conversation's script like every text.
    """
    found = facts.get("choices")
    if not isinstance(found, list):
        return []
    return [
        {"title": str(choice["title"]), "payload": str(choice["payload"])}
        for choice in found
        if isinstance(choice, dict) and choice.get("title") and choice.get("payload")
    ]


def _verbatim(key: str) -> bool:
    return key in CARD_VERBATIM_KEYS or key.endswith(CARD_VERBATIM_SUFFIXES)


def card_in_script(card: Any, conversation_script: str) -> Any:
    """A card with its words (names, labels, tracking events) in the conversation's script.

    Identifiers, states, URLs, times and numbers stay as they are; a converted card says
    ``"script": "traditional"`` so the widget writes its own labels in the same script.

    Args:
        card: The action's card (a dict of the card schema), or any part of one.
        conversation_script: ``"traditional"`` or ``"simplified"``.

    Returns:
        A converted copy (the card itself when nothing needs converting).
    """
    if conversation_script != script.TRADITIONAL:
        return card

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return script.to_script(value, conversation_script)
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {k: (v if _verbatim(str(k)) else convert(v)) for k, v in value.items()}
        return value

    converted = convert(card)
    if isinstance(converted, dict):
        converted["script"] = conversation_script
    return converted


class RenderError(RuntimeError):
    """A response could not be rendered (raised only by a strict renderer, i.e. in tests)."""


@dataclass(frozen=True)
class Context:
    """What a reply depends on besides the response name."""

    persona: str
    style: Optional[str]
    script: str
    facts: Dict[str, Any]
    sender: str = ""
    turn: int = 0
    recent_bot_texts: Tuple[str, ...] = ()


def _recent_bot_texts(events: List[Mapping[str, Any]], count: int = 4) -> Tuple[str, ...]:
    """The texts of the bot's last few messages, in Simplified script."""
    texts = [str(e.get("text") or "") for e in events if e.get("event") == "bot" and e.get("text")]
    return tuple(to_simplified(text) for text in texts[-count:])


def _style_now(persona: Persona, ctx: Context) -> Optional[str]:
    """The style for this reply: an expressive customer is acknowledged once, not every time."""
    if ctx.style != "expressive":
        return ctx.style
    before = str((persona.styles.get("expressive") or {}).get("before") or "")
    if before and any(before in text for text in ctx.recent_bot_texts):
        return None
    return ctx.style


def effective_persona(
    slots: Mapping[str, Any], events: Iterable[Mapping[str, Any]], shop_default: str
) -> str:
    """The persona of a conversation: the customer's choice, else the shop's default.

    The ``persona`` slot starts as ``default``; only an explicit choice (a slot event in the
    tracker) overrides the shop's default persona (SHOP_DEFAULT_PERSONA).
    """
    chosen = any(e.get("event") == "slot" and e.get("name") == "persona" for e in events)
    value = slots.get("persona")
    if chosen and isinstance(value, str) and value:
        return value
    return shop_default or DEFAULT_PERSONA


def _notice_facts(tracker: Mapping[str, Any]) -> Dict[str, Any]:
    latest = tracker.get("latest_message") or {}
    if not is_external_intent(intent_name(latest)):
        return {}
    return {e["entity"]: e.get("value") for e in latest.get("entities") or [] if "entity" in e}


def _matches(variant: Variant, slots: Mapping[str, Any]) -> bool:
    for condition in variant.get("condition") or []:
        wanted, have = condition.get("value"), slots.get(condition.get("name"))
        if isinstance(wanted, str) and isinstance(have, str):
            if wanted.casefold() != have.casefold():
                return False
        elif wanted != have:
            return False
    return True


def _eligible(variants: List[Variant], slots: Mapping[str, Any], channel: str) -> List[Variant]:
    """Rasa's choice among a response's variants (slot conditions, then channel)."""
    conditional = [v for v in variants if v.get("condition") and _matches(v, slots)]
    plain = [v for v in variants if not v.get("condition")]
    for group in (
        [v for v in conditional if v.get("channel") == channel],
        [v for v in plain if v.get("channel") == channel],
        [v for v in conditional if not v.get("channel")],
    ):
        if group:
            return group
    return [v for v in plain if not v.get("channel")]


class Renderer:
    """Renders responses in a persona; re-reads persona files when they change."""

    def __init__(
        self,
        store: Optional[PersonaStore] = None,
        shop_default: str = DEFAULT_PERSONA,
        signing_key: str = "",
        profiles: Optional[ProfileStyles] = None,
        strict: bool = False,
    ):
        self.store = store or PersonaStore()
        self.shop_default = shop_default
        self.signing_key = signing_key
        self.profiles = profiles or ProfileStyles()
        self.strict = strict

    def context(self, body: Mapping[str, Any]) -> Context:
        """Persona, style, script and facts of an NLG request."""
        tracker = body.get("tracker") or {}
        slots = dict(tracker.get("slots") or {})
        events = list(tracker.get("events") or [])
        arguments = {
            k: v for k, v in (body.get("arguments") or {}).items() if k not in MESSAGE_KEYS
        }
        facts = {**slots, **_notice_facts(tracker), **arguments}
        sender = str(tracker.get("sender_id") or "")
        return Context(
            persona=effective_persona(slots, events, self.shop_default),
            style=self._style(slots, events, sender),
            script=script.conversation_script(events),
            facts=facts,
            sender=sender,
            turn=len(events),
            recent_bot_texts=_recent_bot_texts(events),
        )

    def _style(
        self, slots: Mapping[str, Any], events: List[Mapping[str, Any]], sender: str
    ) -> Optional[str]:
        chosen = slots.get("customer_style")
        if chosen in style.STYLES:
            return chosen
        customer_id = signed_in_customer(events, self.signing_key, sender)
        if customer_id is not None:
            known = self.profiles.style_for(customer_id)
            if known in style.STYLES:
                return known
        return style.infer_style(events)

    def persona(self, persona_id: str) -> Persona:
        """The persona, else the shop's default persona, else ``default`` (each miss logged).

        A persona is missed when its id is unknown or its file never had a usable version
        (a file that breaks later keeps its last good version, see :mod:`bot.nlg.personas`).

        Raises:
            RenderError: in strict mode, for an unknown or unusable persona.
            PersonaError: not even the ``default`` persona is usable.
        """
        tried: List[str] = []
        for candidate in (persona_id, self.shop_default, DEFAULT_PERSONA):
            if not candidate or candidate in tried:
                continue
            tried.append(candidate)
            try:
                return self.store.get(candidate)
            except (KeyError, PersonaError) as error:
                if self.strict:
                    raise RenderError(f"unusable persona {candidate!r}: {error}") from None
                why = "unknown" if isinstance(error, KeyError) else "unusable"
                logger.warning("persona %r is %s: trying the next fallback", candidate, why)
        raise PersonaError(f"no usable persona among {tried}")

    def render(self, body: Mapping[str, Any]) -> Dict[str, Any]:
        """Render one NLG request (Rasa's format) into a bot message."""
        response = str(body.get("response") or "")
        ctx = self.context(body)
        message = self.render_response(
            response, ctx, channel=(body.get("channel") or {}).get("name") or ""
        )
        card = (body.get("arguments") or {}).get("card")
        if isinstance(card, dict):
            message["custom"] = card_in_script(card, ctx.script)
        message["persona"] = self._persona_in_effect(ctx.persona)
        return message

    def _persona_in_effect(self, persona_id: str) -> str:
        """The id of the persona a reply speaks in (the fallbacks of :meth:`persona`, unlogged)."""
        for candidate in (persona_id, self.shop_default):
            try:
                return self.store.get(candidate).id
            except (KeyError, PersonaError):
                continue
        return DEFAULT_PERSONA

    def render_response(self, response: str, ctx: Context, channel: str = "") -> Dict[str, Any]:
        """Render a response name in a context.

        Raises:
            RenderError: in strict mode, for an unknown response, a missing fact or leftover
                template syntax (otherwise the persona's safe sentence is returned and logged).
        """
        try:
            persona = self.persona(ctx.persona)
        except PersonaError as error:
            logger.error("rendering %s failed: %s", response, error)
            return {"text": script.to_script(LAST_RESORT, ctx.script)}
        variants, _ = self.store.variants(persona, response)
        variants = _eligible(variants, ctx.facts, channel)
        if not variants:
            return self._safe(persona, ctx, response, "no such response")
        variant = variants[self._pick(ctx, response, len(variants))]
        message: Dict[str, Any] = {}
        if variant.get("text"):
            try:
                text = template.fill(variant["text"], ctx.facts)
            except (template.MissingFact, template.TemplateSyntaxLeft) as error:
                return self._safe(persona, ctx, response, f"{type(error).__name__}: {error}")
            text = style.adapt(
                text,
                response,
                _style_now(persona, ctx),
                persona.styles,
                ctx.facts,
                used=template.placeholders(variant["text"]),
            )
            message["text"] = script.to_script(text, ctx.script)
        buttons = [
            {**button, "title": script.to_script(str(button.get("title", "")), ctx.script)}
            for button in list(variant.get("buttons") or []) + _choices(ctx.facts)
        ]
        if buttons:
            message["buttons"] = buttons
        if isinstance(variant.get("custom"), dict):
            message["custom"] = variant["custom"]
        if isinstance(variant.get("image"), str):
            message["image"] = variant["image"]
        return message

    @staticmethod
    def _pick(ctx: Context, response: str, count: int) -> int:
        if count == 1:
            return 0
        seed = f"{ctx.sender}:{response}:{ctx.turn}".encode()
        return int(hashlib.sha1(seed).hexdigest(), 16) % count

    def _safe(self, persona: Persona, ctx: Context, response: str, why: str) -> Dict[str, Any]:
        if self.strict:
            raise RenderError(f"{persona.id}/{response}: {why}")
        logger.error("rendering %s in persona %s failed (%s)", response, persona.id, why)
        return {"text": script.to_script(persona.safe_default, ctx.script)}
