"""Delivering a notice into the customer's conversation through Rasa's external events.

Every trigger carries the notice's id as the entity :data:`NOTICE_ID_ENTITY` (not a domain
entity, so it changes no prediction). Rasa records it on the external ``UserUttered`` event,
which is how an uncertain delivery (a timeout, a process that died) is found again in the
conversation's tracker before it is retried.
"""

from __future__ import annotations

import abc
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, Optional, TypeVar

from bot.rasa_client import RasaClient, RasaUnavailable, call_blocking, healthy_blocking

NOTICE_ID_ENTITY = "notice_id"
T = TypeVar("T")


class DeliveryError(RuntimeError):
    """Rasa did not accept the notice, or could not be asked whether it has it."""


class Deliverer(abc.ABC):
    """Something that puts a notice into a conversation."""

    @abc.abstractmethod
    def deliver(
        self,
        conversation_id: str,
        intent: str,
        facts: Dict[str, str],
        notice_id: Optional[str] = None,
    ) -> None:
        """Trigger the notice's intent in the conversation, tagged with the notice's id if given.

        Raises:
            DeliveryError: when it was not delivered, or it is unknown whether it was.
        """

    @abc.abstractmethod
    def held_by_a_person(self, conversation_id: str) -> bool:
        """Whether an agent holds the conversation (assist or human mode: the bot says nothing).

        Raises:
            DeliveryError: when the conversation could not be read.
        """

    @abc.abstractmethod
    def delivered_at(self, conversation_id: str, intent: str, notice_id: str) -> Optional[datetime]:
        """When the notice reached the conversation, or None when the conversation lacks it.

        Raises:
            DeliveryError: when the conversation could not be read.
        """


def _notice_in(event: Dict[str, Any], intent: str, notice_id: str) -> bool:
    if event.get("event") != "user":
        return False
    parse_data = event.get("parse_data") or {}
    if (parse_data.get("intent") or {}).get("name") != intent:
        return False
    return any(
        entity.get("entity") == NOTICE_ID_ENTITY and entity.get("value") == notice_id
        for entity in parse_data.get("entities") or []
    )


class RasaDeliverer(Deliverer):
    """``POST /conversations/<id>/trigger_intent`` on the Rasa server (token protected).

    The facts travel as the external event's entities; the rule for the intent utters the
    notice, which the persona renderer fills from them. ``output_channel=latest`` sends it to
    the channel the customer last wrote from (e.g. the widget's socket.io).

    Its methods block: they run in the notice job's worker thread or on the command line, each
    call with a client of its own (`bot.rasa_client.call_blocking`).
    """

    def __init__(
        self, rasa_url: str, token: str, timeout: float = 30.0, check_timeout: float = 10.0
    ):
        """A deliverer to the Rasa server at `rasa_url`.

        Args:
            rasa_url: Base URL of the Rasa server.
            token: Rasa's HTTP API token.
            timeout: Seconds a delivery may take (after that it is uncertain).
            check_timeout: Seconds the tracker check may take.
        """
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.check_timeout = check_timeout

    def _call(self, work: Callable[[RasaClient], Awaitable[T]]) -> T:
        return call_blocking(self.rasa_url, self.token, work)

    def healthy(self) -> bool:
        """Whether the Rasa server answers with a loaded model."""
        return healthy_blocking(self.rasa_url, self.token)

    def deliver(
        self,
        conversation_id: str,
        intent: str,
        facts: Dict[str, str],
        notice_id: Optional[str] = None,
    ) -> None:
        """Trigger the intent; raises DeliveryError unless Rasa answers 200."""
        entities = dict(facts) if notice_id is None else {**facts, NOTICE_ID_ENTITY: notice_id}
        try:
            self._call(
                lambda rasa: rasa.trigger_intent(
                    conversation_id, intent, entities, "latest", timeout=self.timeout
                )
            )
        except RasaUnavailable as error:
            if error.status is not None:
                raise DeliveryError(f"Rasa answered {error.status}") from None
            if error.timed_out:  # Rasa may still have delivered it: uncertain
                raise DeliveryError(f"Rasa did not answer within {self.timeout:g} s") from None
            raise DeliveryError(f"Rasa unreachable: {error}") from None

    def held_by_a_person(self, conversation_id: str) -> bool:
        """Rasa's `paused` flag of the conversation's tracker (read without its events)."""
        try:
            tracker = self._call(
                lambda rasa: rasa.tracker(conversation_id, "NONE", self.check_timeout)
            )
        except RasaUnavailable as error:
            if error.status is not None:
                raise DeliveryError(f"Rasa answered {error.status} to the tracker read") from None
            raise DeliveryError(f"tracker read failed: {error}") from None
        return bool(tracker.get("paused"))

    def delivered_at(self, conversation_id: str, intent: str, notice_id: str) -> Optional[datetime]:
        """Look for the tagged external event in the whole tracker (``include_events=ALL``)."""
        try:
            events = self._call(lambda rasa: rasa.events(conversation_id, self.check_timeout))
        except RasaUnavailable as error:
            if error.status is not None:
                raise DeliveryError(f"Rasa answered {error.status} to the tracker check") from None
            raise DeliveryError(f"tracker check failed: {error}") from None
        for event in reversed(events):
            if isinstance(event, dict) and _notice_in(event, intent, notice_id):
                stamp = event.get("timestamp")
                if stamp is None:
                    return datetime.now(timezone.utc)
                return datetime.fromtimestamp(float(stamp), timezone.utc)
        return None
