"""The NLG the Rasa server uses: the web app's ``/nlg``, with a short timeout and a fallback.

``endpoints.yml`` names this class (``nlg: type: bot.nlg.guarded.GuardedNLG``), so it runs
inside the Rasa process. Each response is asked of the web app's persona renderer as Rasa's own
callback NLG asks it (same request, same headers, including the endpoint secret), but waits at
most ``timeout`` seconds (``timeout:`` in ``endpoints.yml``, Rasa's own wait is 300 s). When the
web app is down, hung or refuses, the reply is rendered here from the domain's default text with
the same placeholder filler and script conversion as the renderer; a text that cannot be filled
becomes the apology with a person offered (``utter_shop_unavailable``). After a failure the web
app is not asked again for ``cooldown`` seconds, so one customer message waits once at most.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.cooldown import Cooldown
from bot.nlg import script, template
from bot.nlg.renderer import LAST_RESORT, MESSAGE_KEYS, card_in_script
from bot.settings import ROOT

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 1.5
DEFAULT_COOLDOWN = 10.0
APOLOGY = "utter_shop_unavailable"
DOMAIN_FILE = ROOT / "domain.yml"

Message = Dict[str, Any]


class GuardedNLG(CallbackNaturalLanguageGenerator):
    """Rasa's callback NLG with a timeout, a cool-down and a fallback rendered in process."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        """Reads the timeout and cool-down from the endpoint's configuration.

        Args:
            endpoint_config: The ``nlg`` entry of ``endpoints.yml`` (url, headers, ``timeout``,
                ``cooldown``).
            domain: The model's domain, whose default texts are the fallback.
        """
        super().__init__(endpoint_config)
        extra = endpoint_config.kwargs
        self.timeout = float(extra.get("timeout", DEFAULT_TIMEOUT))
        self.cooldown = Cooldown(float(extra.get("cooldown", DEFAULT_COOLDOWN)))
        self.responses: Dict[str, List[Dict[str, Any]]] = dict(domain.responses) if domain else {}

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Message]:
        """The web app's rendering of the response, else the fallback (never an exception)."""
        if kwargs.get("domain_responses"):  # the served model's responses (utter actions pass them)
            self.responses = kwargs["domain_responses"]
        if self.cooldown.allows():
            try:
                answer = await asyncio.wait_for(
                    super().generate(utter_action, tracker, output_channel, **dict(kwargs)),
                    self.timeout,
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:  # down, hung, refused or a malformed answer alike
                self.cooldown.failed()
                logger.warning(
                    "/nlg failed for %s (%s): answering from the domain's default text",
                    utter_action,
                    type(error).__name__,
                )
            else:
                self.cooldown.succeeded()
                return answer
        return self.fallback(utter_action, tracker, output_channel, kwargs)

    def fallback(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        arguments: Mapping[str, Any],
    ) -> Message:
        """The response's default text, filled and in the customer's script, else the apology."""
        facts = {
            **tracker.current_slot_values(),
            **{k: v for k, v in arguments.items() if k not in MESSAGE_KEYS},
        }
        written = script.conversation_script(
            event.as_dict() for event in tracker.events if isinstance(event, UserUttered)
        )
        message = self._default(utter_action, facts, output_channel, written)
        if message is None:
            message = self._default(APOLOGY, {}, output_channel, written) or {
                "text": script.to_script(LAST_RESORT, written)
            }
        card = arguments.get("card")
        if isinstance(card, dict):
            message["custom"] = card_in_script(card, written)
        return message

    def _known_responses(self) -> Dict[str, List[Dict[str, Any]]]:
        """The model's responses once seen, else those of `domain.yml`.

        Rasa builds this NLG before it loads the model, with an empty domain.
        """
        if not self.responses:
            try:
                self.responses = dict(Domain.load(str(DOMAIN_FILE)).responses)
            except Exception as error:  # the built-in apology still answers
                logger.error("no default texts for the NLG fallback: %s", type(error).__name__)
        return self.responses

    def _default(
        self, response: str, facts: Mapping[str, Any], channel: str, written: str
    ) -> Optional[Message]:
        variant = _variant(self._known_responses().get(response) or [], facts, channel)
        if variant is None:
            return None
        message: Message = {}
        if variant.get("text"):
            try:
                text = template.fill(str(variant["text"]), facts)
            except (template.MissingFact, template.TemplateSyntaxLeft):
                return None
            message["text"] = script.to_script(text, written)
        buttons = [
            {**button, "title": script.to_script(str(button.get("title", "")), written)}
            for button in variant.get("buttons") or []
            if isinstance(button, dict)
        ]
        if buttons:
            message["buttons"] = buttons
        if isinstance(variant.get("custom"), dict):
            message["custom"] = variant["custom"]
        return message or None


def _variant(
    variants: List[Dict[str, Any]], facts: Mapping[str, Any], channel: str
) -> Optional[Dict[str, Any]]:
    """The first variant whose slot conditions hold, for this channel or any channel."""

    def holds(variant: Dict[str, Any]) -> bool:
        return all(
            facts.get(condition.get("name")) == condition.get("value")
            for condition in variant.get("condition") or []
        )

    usable = [v for v in variants if v.get("channel") in (None, channel) and holds(v)]
    usable.sort(key=lambda v: (not v.get("condition"), v.get("channel") is None))
    return usable[0] if usable else None
