"""Delivering a notice into the customer's conversation through Rasa's external events."""

from __future__ import annotations

import abc
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Dict


class DeliveryError(RuntimeError):
    """Rasa did not accept the notice."""


class Deliverer(abc.ABC):
    """Something that puts a notice into a conversation."""

    @abc.abstractmethod
    def deliver(self, conversation_id: str, intent: str, facts: Dict[str, str]) -> None:
        """Trigger the notice's intent in the conversation.

        Raises:
            DeliveryError: when it was not delivered.
        """


class RasaDeliverer(Deliverer):
    """``POST /conversations/<id>/trigger_intent`` on the Rasa server (token protected).

    The facts travel as the external event's entities; the rule for the intent utters the
    notice, which the persona renderer fills from them. ``output_channel=latest`` sends it to
    the channel the customer last wrote from (e.g. the widget's socket.io).
    """

    def __init__(self, rasa_url: str, token: str, timeout: float = 30.0):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def healthy(self) -> bool:
        """Whether the Rasa server answers with a loaded model."""
        url = f"{self.rasa_url}/status?{urllib.parse.urlencode({'token': self.token})}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def deliver(self, conversation_id: str, intent: str, facts: Dict[str, str]) -> None:
        """Trigger the intent; raises DeliveryError unless Rasa answers 200."""
        query = urllib.parse.urlencode({"token": self.token, "output_channel": "latest"})
        path = urllib.parse.quote(conversation_id, safe="")
        request = urllib.request.Request(
            f"{self.rasa_url}/conversations/{path}/trigger_intent?{query}",
            data=json.dumps({"name": intent, "entities": facts}, ensure_ascii=False).encode(),
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
            raise DeliveryError(f"Rasa unreachable: {type(error).__name__}") from None
