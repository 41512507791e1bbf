"""First stage of the two-stage fallback: offer the two likeliest intents."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

LABELS_FILE = Path(__file__).with_name("intent_labels.yml")
NOT_OFFERED = {"nlu_fallback", "out_of_scope", "affirm", "deny", "inform"}
CHOICES = 2


@functools.lru_cache(maxsize=1)
def intent_labels() -> Dict[str, str]:
    """The customer-facing label of every intent."""
    return yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))


def likeliest_intents(parse_data: Dict[str, Any], count: int = CHOICES) -> List[str]:
    """The most likely intents of a parse that are worth offering as choices.

    Args:
        parse_data: The latest message's parse data with ``intent_ranking``.
        count: How many to return at most.

    Returns:
        Intent names, most likely first.
    """
    ranking = parse_data.get("intent_ranking") or []
    names = [item["name"] for item in ranking if item.get("name") not in NOT_OFFERED]
    return [name for name in names if name in intent_labels()][:count]


class ActionDefaultAskAffirmation(Action):
    """Asks which of the two likeliest intents the customer meant."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends buttons for the likeliest intents plus "something else".

        A message without a single known word (flagged ``unknown_words`` by the NLU) has no
        likely intent worth offering: the customer is asked to rephrase instead.
        """
        if tracker.latest_message.get("unknown_words"):
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        labels = intent_labels()
        choices = [
            {"title": labels[name], "payload": f"/{name}"}
            for name in likeliest_intents(tracker.latest_message)
        ]
        choices.append({"title": labels["out_of_scope"], "payload": "/out_of_scope"})
        dispatcher.utter_message(response="utter_ask_affirmation", choices=choices)
        return []
