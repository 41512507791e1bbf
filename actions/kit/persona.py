"""The `persona` slot takes only the contract's persona ids (the domain's slot values).

The customer channels refuse any other persona before a message reaches Rasa, but Rasa's HTTP
API (`trigger_intent`, `messages`) passes entities as given: markup, a dict or an unknown id
would become the conversation's voice. The slot is therefore filled by `ActionExtractPersona`
(a custom slot mapping, run only for `choose_persona`), which keeps the current persona when the
named one is not a contract id, and a new session carries over only a contract id
(`actions.kit.session_start`).
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

PERSONA_SLOT = "persona"
# Rasa adds this value to every categorical slot for values outside the list.
_OTHER = "__other__"


def persona_ids(domain: Dict[Text, Any]) -> FrozenSet[str]:
    """The persona ids the domain's `persona` slot lists (the contract's ids).

    Args:
        domain: The domain as Rasa sends it to the action server (or as read from domain.yml).

    Returns:
        The ids; empty when the domain has no such slot.
    """
    slot = (domain.get("slots") or {}).get(PERSONA_SLOT) or {}
    return frozenset(
        value for value in slot.get("values") or () if isinstance(value, str) and value != _OTHER
    )


def valid_persona(value: Any, domain: Dict[Text, Any]) -> Optional[str]:
    """The value when it is one of the domain's persona ids, else None.

    Args:
        value: A candidate slot value (any JSON value).
        domain: The domain.

    Returns:
        The persona id, or None for anything else (markup, a dict, an unknown or differently
        written id).
    """
    return value if isinstance(value, str) and value in persona_ids(domain) else None


class ActionExtractPersona(Action):
    """Fills `persona` from the message's persona entity, refusing what is not a contract id."""

    def name(self) -> Text:
        """The action's name in the domain (the slot's custom mapping)."""
        return "action_extract_persona"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """The last persona the message names that is a contract id; nothing when none is.

        Args:
            dispatcher: Unused: the persona rules answer.
            tracker: The conversation, its latest message carrying the entities.
            domain: The domain with the persona slot's values.

        Returns:
            `SlotSet("persona", id)`, or no event (the current persona stays).
        """
        entities = (tracker.latest_message or {}).get("entities") or []
        named = [
            valid_persona(entity.get("value"), domain)
            for entity in entities
            if isinstance(entity, dict) and entity.get("entity") == PERSONA_SLOT
        ]
        chosen = [persona for persona in named if persona is not None]
        return [SlotSet(PERSONA_SLOT, chosen[-1])] if chosen else []


__all__ = ["ActionExtractPersona", "persona_ids", "valid_persona"]
