"""The NLG the Rasa server uses: the persona renderer, in process or over HTTP, never silent.

``endpoints.yml`` names this class (``nlg: type: bot.nlg.guarded.GuardedNLG``), so it runs
inside the Rasa process. With ``in_process: true`` (both endpoint files) it renders each response
with the persona renderer itself (:class:`bot.nlg.renderer.Renderer`, the code behind the web
app's ``/nlg``), from the same request Rasa's callback NLG would send: no HTTP hop per response,
and the web app's health does not matter. Otherwise it asks the web app's ``/nlg`` as Rasa's own
callback NLG does (same request, same headers, including the endpoint secret, over keep-alive
connections), but waits at most ``timeout`` seconds (Rasa's own wait is 300 s). When rendering
fails (the web app down, hung or refusing, or a persona that cannot render), the reply is
rendered here from the domain's default text with the same placeholder filler and script
conversion as the renderer; a text that cannot be filled becomes the apology with a person
offered (``utter_shop_unavailable``). After a failure the renderer is not asked again for
``cooldown`` seconds, so one customer message waits once at most.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_request_format
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot import keepalive
from bot import settings as bot_settings
from bot.cooldown import Cooldown
from bot.nlg import script, template
from bot.nlg.renderer import LAST_RESORT, MESSAGE_KEYS, Renderer, card_in_script
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
        """Reads the timeout, cool-down and where to render from the endpoint's configuration.

        Args:
            endpoint_config: The ``nlg`` entry of ``endpoints.yml`` (url, headers, ``timeout``,
                ``cooldown``, ``in_process``).
            domain: The model's domain, whose default texts are the fallback.
        """
        super().__init__(keepalive.shared(endpoint_config))
        extra = endpoint_config.kwargs
        self.timeout = float(extra.get("timeout", DEFAULT_TIMEOUT))
        self.cooldown = Cooldown(float(extra.get("cooldown", DEFAULT_COOLDOWN)))
        self.responses: Dict[str, List[Dict[str, Any]]] = dict(domain.responses) if domain else {}
        self.renderer: Optional[Renderer] = None
        if str(extra.get("in_process", "")).lower() in ("1", "true", "yes"):
            config = bot_settings.load()
            self.renderer = Renderer(
                shop_default=config.default_persona, signing_key=config.signing_key
            )

    async def _render(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> Message:
        """The persona renderer's answer to Rasa's NLG request, here or over HTTP.

        Rasa's own callback NLG serialises the whole tracker a second time for a debug line it
        formats even when debug logging is off; this asks the same request without that.

        Raises:
            RasaException: the web app's answer is not a bot message.
        """
        kwargs.pop("domain_responses", None)
        body = nlg_request_format(utter_action, tracker, output_channel, **kwargs)
        if self.renderer is not None:
            return self.renderer.render(body)
        answer = await self.nlg_endpoint.request(
            method="post", json=body, timeout=DEFAULT_REQUEST_TIMEOUT
        )
        if isinstance(answer, dict) and self.validate_response(answer):
            return answer
        raise RasaException("the NLG endpoint's answer is not a bot message")

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
                    self._render(utter_action, tracker, output_channel, **dict(kwargs)),
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
