"""Delivering a notice into the customer's conversation through Rasa's external events.

Every trigger carries the notice's id as the entity :data:`NOTICE_ID_ENTITY` (not a domain
entity, so it changes no prediction). Rasa records it on the external ``UserUttered`` event,
which is how an uncertain delivery (a timeout, a process that died) is found again in the
conversation's tracker before it is retried.
"""

from __future__ import annotations

import abc
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any, Dict, Optional

NOTICE_ID_ENTITY = "notice_id"


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
    """

    def __init__(
        self, rasa_url: str, token: str, timeout: float = 30.0, check_timeout: float = 10.0
    ):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.check_timeout = check_timeout

    def healthy(self) -> bool:
        """Whether the Rasa server answers with a loaded model."""
        url = f"{self.rasa_url}/status?{urllib.parse.urlencode({'token': self.token})}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def _url(self, conversation_id: str, endpoint: str, **params: str) -> str:
        query = urllib.parse.urlencode({"token": self.token, **params})
        path = urllib.parse.quote(conversation_id, safe="")
        return f"{self.rasa_url}/conversations/{path}/{endpoint}?{query}"

    def deliver(
        self,
        conversation_id: str,
        intent: str,
        facts: Dict[str, str],
        notice_id: Optional[str] = None,
    ) -> None:
        """Trigger the intent; raises DeliveryError unless Rasa answers 200."""
        entities = dict(facts) if notice_id is None else {**facts, NOTICE_ID_ENTITY: notice_id}
        request = urllib.request.Request(
            self._url(conversation_id, "trigger_intent", output_channel="latest"),
            data=json.dumps({"name": intent, "entities": entities}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if response.status != 200:
                    raise DeliveryError(f"Rasa answered {response.status}")
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"Rasa answered {error.code}") from None
        except OSError as error:
            if isinstance(error, TimeoutError) or isinstance(
                getattr(error, "reason", None), TimeoutError
            ):  # Rasa may still have delivered it: uncertain
                raise DeliveryError(f"Rasa did not answer within {self.timeout:g} s") from None
            raise DeliveryError(f"Rasa unreachable: {type(error).__name__}") from None

    def delivered_at(self, conversation_id: str, intent: str, notice_id: str) -> Optional[datetime]:
        """Look for the tagged external event in the whole tracker (``include_events=ALL``)."""
        url = self._url(conversation_id, "tracker", include_events="ALL")
        try:
            with urllib.request.urlopen(url, timeout=self.check_timeout) as response:
                tracker = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"Rasa answered {error.code} to the tracker check") from None
        except OSError as error:
            raise DeliveryError(f"tracker check failed: {type(error).__name__}") from None
        except ValueError:
            raise DeliveryError("tracker check: Rasa answered no JSON") from None
        for event in reversed(tracker.get("events") or []):
            if _notice_in(event, intent, notice_id):
                stamp = event.get("timestamp")
                if stamp is None:
                    return datetime.now(timezone.utc)
                return datetime.fromtimestamp(float(stamp), timezone.utc)
        return None
