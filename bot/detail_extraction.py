"""Rasa calls the detail reader on the action server only when a message can change a detail slot.

The detail slots (order number, phone tail, tracking number, height, weight, size) are filled by
a custom slot mapping, `action_extract_details` (`actions/kit/details.py`), which Rasa's
`action_extract_slots` runs after every customer message: one action server call per message,
even for "还有货吗". That action sets a slot only from a detail it reads in the latest message,
or by recalling an order number or phone tail an earlier message of the session gave while the
slot is empty. `DetailAwareExtractSlots` reads the same messages with the same pure reader
(`shop.text.details.read_details`) in the Rasa process first and skips the call when it cannot
set anything: the latest message holds no detail, and no empty order number or phone tail has
an earlier message of this session holding one. The check errs towards calling (it reads widget
commands' words and external events too, and ignores when a slot was emptied), so the action
decides exactly as before whenever it is called, and it is not called only where it would have
returned nothing.

`install` makes Rasa build this class for `action_extract_slots`; the Rasa server's launcher
(`bot.rasa_server`) installs it before Rasa starts.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Text, Tuple

import rasa.core.actions.action as rasa_action
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from shop.text.details import Details, read_details

DETAILS_ACTION = "action_extract_details"
# the slots the action recalls from earlier messages, and the kinds of detail that give them
RECALLED_KINDS = {
    "order_id": ("order_ids",),
    "phone_tail": ("phone_tails", "mobile_tails"),
}
_CACHE_SIZE = 4096

EntityKey = Tuple[Tuple[Any, Any], ...]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_reading(text: str, entities: EntityKey, asked: Optional[str]) -> Details:
    return read_details(text, [{"entity": e, "value": v} for e, v in entities], asked)


def reading(text: Any, entities: Iterable[Any], asked: Optional[str]) -> Details:
    """The details of one message's words and entities (`read_details`, remembered).

    Args:
        text: The message's text; a widget command's words are read too.
        entities: The message's entities (dicts with "entity" and "value").
        asked: The slot asked for when the message came.

    Returns:
        What `read_details` finds.
    """
    pairs = tuple(
        (entity.get("entity"), entity.get("value"))
        for entity in entities or ()
        if isinstance(entity, Mapping)
    )
    words = text if isinstance(text, str) else ""
    try:
        return _cached_reading(words, pairs, asked)
    except TypeError:  # an entity value that cannot be a key (a list, a dict): read it anew
        return read_details(words, [{"entity": e, "value": v} for e, v in pairs], asked)


def _session_messages(tracker: DialogueStateTracker) -> List[Tuple[UserUttered, Optional[str]]]:
    """The user messages since the session started, each with the slot asked for then."""
    asked: Optional[str] = None
    found: List[Tuple[UserUttered, Optional[str]]] = []
    for event in tracker.events:
        if isinstance(event, SessionStarted):
            asked, found = None, []
        elif isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            asked = event.value
        elif isinstance(event, UserUttered):
            found.append((event, asked))
    return found


def may_change_details(tracker: DialogueStateTracker) -> bool:
    """Whether `action_extract_details` could set a slot after the latest message.

    Args:
        tracker: The conversation as `action_extract_slots` sees it.

    Returns:
        False only when the latest message holds no detail and no empty order number or phone
        tail could be recalled from an earlier message of the session.
    """
    latest = tracker.latest_message
    if latest is None:
        return True
    asked = tracker.get_slot(REQUESTED_SLOT)
    if not reading(latest.text, latest.entities, asked).empty:
        return True
    empty = [slot for slot in RECALLED_KINDS if not tracker.get_slot(slot)]
    if not empty:
        return False
    for message, asked_then in _session_messages(tracker):
        found = reading(message.text, message.entities, asked_then)
        for slot in empty:
            if any(getattr(found, kind) for kind in RECALLED_KINDS[slot]):
                return True
    return False


class DetailAwareExtractSlots(ActionExtractSlots):
    """Rasa's slot extraction, calling `action_extract_details` only when it can set a slot."""

    async def _execute_custom_action(
        self,
        mapping: Dict[Text, Any],
        executed_custom_actions: Set[Text],
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> Tuple[List[Event], Set[Text]]:
        action = mapping.get("action")
        if (
            action == DETAILS_ACTION
            and action not in executed_custom_actions
            and not may_change_details(tracker)
        ):
            return [], executed_custom_actions | {action}
        return await super()._execute_custom_action(
            mapping, executed_custom_actions, output_channel, nlg, tracker, domain
        )


def install() -> None:
    """Makes Rasa build `DetailAwareExtractSlots` for `action_extract_slots`."""
    rasa_action.ActionExtractSlots = DetailAwareExtractSlots
