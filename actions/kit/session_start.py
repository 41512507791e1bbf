"""A new session starts without the order proof of the last one.

Rasa starts a new session after `session_expiration_time` of silence (domain.yml) and, with
`carry_over_slots_to_new_session`, copies every slot into it. An order number with its phone
tail is proof of who the customer is: carried over, whoever has the conversation id hours later
would still see that order. So only the slots in CARRIED_OVER cross into a new session (the
chosen persona and the customer's style, nothing that proves or names an order); everything
else starts empty. A persona that is not one of the contract's ids is not carried over.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.kit.persona import PERSONA_SLOT, valid_persona

# Slots a new session keeps: how the assistant speaks, never who the customer proved to be
# (`session_started_metadata` is the metadata of the message starting this session, as Rasa keeps).
CARRIED_OVER = ("persona", "customer_style", "session_started_metadata")


def _carries_over(domain: Dict[Text, Any]) -> bool:
    config = domain.get("session_config") or {}
    return bool(config.get("carry_over_slots_to_new_session", True))


class ActionSessionStart(Action):
    """Starts a session, keeping only the CARRIED_OVER slots of the last one."""

    def name(self) -> Text:
        """Rasa's name of the session start action."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """The session start, the kept slots, then listening (as Rasa's own action ends)."""
        events: List[EventType] = [SessionStarted()]
        if _carries_over(domain):
            slots = tracker.current_slot_values()
            if valid_persona(slots.get(PERSONA_SLOT), domain) is None:
                slots[PERSONA_SLOT] = None  # a voice the contract does not know is not kept
            events += [
                SlotSet(name, slots[name]) for name in CARRIED_OVER if slots.get(name) is not None
            ]
        events.append(ActionExecuted("action_listen"))
        return events


__all__ = ["ActionSessionStart", "CARRIED_OVER"]
