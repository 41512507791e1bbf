"""Action server calls that end within seconds: an apology and a person when it does not answer.

Rasa 3.6 waits up to 300 s for the action server and, when the call fails, logs the error and
goes on without a word to the customer. `GuardedRemoteAction` waits at most `timeout` seconds
(`timeout:` of `action_endpoint` in `endpoints.yml`) and answers a dead, hung or failing action
server as `actions.kit.base.ShopAction` answers a failure inside an action: the apology
`utter_shop_unavailable` (a person offered) and `handoff_reason` set to `system_error`. A form's
rejection of a slot value (HTTP 400) is not a failure and goes through unchanged. After a failure
the action server is not called again for `cooldown` seconds, and the apology is said once per
customer message.

Rasa builds its remote actions in `rasa.core.actions.action` and `rasa.core.actions.forms` (form
validation); `install` makes both build this class. The Rasa server's launcher
(`bot.rasa_server`) installs it before Rasa starts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import rasa.core.actions.action as rasa_action
import rasa.core.actions.forms as rasa_forms
from rasa.core.actions.action import (
    ActionExecutionRejection,
    ActionSessionStart,
    RemoteAction,
    create_bot_utterance,
)
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import keepalive
from bot.cooldown import Cooldown

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0
DEFAULT_COOLDOWN = 10.0
APOLOGY = "utter_shop_unavailable"
HANDOFF_SLOT = "handoff_reason"
HANDOFF_REASON = "system_error"

# One cool-down per action server URL, shared by every action the Rasa process runs.
_cooldowns: Dict[str, Cooldown] = {}


def _setting(endpoint: Optional[EndpointConfig], name: str, default: float) -> float:
    found = (endpoint.kwargs if endpoint is not None else {}).get(name, default)
    return float(found)


def _cooldown(endpoint: Optional[EndpointConfig]) -> Cooldown:
    url = (endpoint.url if endpoint is not None else None) or ""
    if url not in _cooldowns:
        _cooldowns[url] = Cooldown(_setting(endpoint, "cooldown", DEFAULT_COOLDOWN))
    return _cooldowns[url]


def apologised_this_turn(tracker: DialogueStateTracker) -> bool:
    """Whether the apology was already said since the customer's latest message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get("utter_action") == APOLOGY:
            return True
    return False


class GuardedRemoteAction(RemoteAction):
    """Rasa's remote action with a timeout and the apology on any failure."""

    def __init__(self, name: str, action_endpoint: Optional[EndpointConfig]) -> None:
        """Rasa's remote action, calling over the process's keep-alive connections."""
        super().__init__(name, keepalive.shared(action_endpoint))

    @property
    def timeout(self) -> float:
        """Seconds an action call may take (the endpoint's `timeout`, else 3)."""
        return _setting(self.action_endpoint, "timeout", DEFAULT_TIMEOUT)

    async def run(
        self,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> List[Event]:
        """Runs the action on the action server; a failure becomes the apology."""
        cooldown = _cooldown(self.action_endpoint)
        if not self.action_endpoint or not cooldown.allows():
            return await self._failed(output_channel, nlg, tracker, domain, "skipped")
        try:
            events = await asyncio.wait_for(
                super().run(output_channel, nlg, tracker, domain), self.timeout
            )
        except (ActionExecutionRejection, asyncio.CancelledError):
            raise
        except Exception as error:  # refused, dead, hung, 5xx or a malformed answer alike
            cooldown.failed()
            return await self._failed(output_channel, nlg, tracker, domain, type(error).__name__)
        cooldown.succeeded()
        return events

    async def _failed(
        self,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
        why: str,
    ) -> List[Event]:
        if self.name() != ACTION_SESSION_START_NAME:
            return await self._apologise(output_channel, nlg, tracker, domain, why)
        # the session still starts, silently, with Rasa's own start and nothing carried over (the
        # shop's start would have dropped the order proof); the customer's message is answered
        logger.error("session start failed (%s): started without carried-over slots", why)
        started = await ActionSessionStart().run(output_channel, nlg, tracker, domain)
        return [event for event in started if not isinstance(event, SlotSet)]

    async def _apologise(
        self,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
        why: str,
    ) -> List[Event]:
        logger.error(
            "action %s failed (%s) in conversation %s: apologising, a person offered",
            self.name(),
            why,
            tracker.sender_id[:8],
        )
        # the turn ends with the apology: no policy guesses on after a failed action
        events: List[Event] = [
            SlotSet(HANDOFF_SLOT, HANDOFF_REASON),
            FollowupAction(ACTION_LISTEN_NAME),
        ]
        if apologised_this_turn(tracker):
            return events
        message: Optional[Dict[str, Any]] = await nlg.generate(
            APOLOGY, tracker, output_channel.name(), domain_responses=domain.responses
        )
        if not message:
            return events
        message["utter_action"] = APOLOGY
        return [create_bot_utterance(message), *events]


def install() -> None:
    """Makes Rasa build `GuardedRemoteAction` wherever it builds a remote action."""
    rasa_action.RemoteAction = GuardedRemoteAction
    rasa_forms.RemoteAction = GuardedRemoteAction
