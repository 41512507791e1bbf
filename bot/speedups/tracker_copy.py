"""A tracker copied by copying its state, not by replaying its conversation into a new one.

Rasa 3.6 runs every action on a copy of the tracker (`MessageProcessor._run_action`: a rejected
action's policy events must not reach the real one), and `DialogueStateTracker.copy` makes that
copy by replaying every event of the session into a fresh tracker (`travel_back_in_time` with no
limit): work that grows with the conversation, for every action of every message.

With `install`, `copy` builds the same tracker from the state the replay would rebuild: a new
event list holding the same events, each slot copied with its value, the active loop copied, and
the rest of the state (latest action, message, bot utterance, follow-up action, pause) taken as
it is, as the replay takes the same event objects. What the replay does not carry over is not
carried over either: the model and assistant ids and any other attribute set on the tracker
outside its events. The test compares every attribute with Rasa's copy.
"""

from __future__ import annotations

import copy
import functools
from typing import Callable

from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import AnySlotDict, DialogueStateTracker

Copy = Callable[[DialogueStateTracker], DialogueStateTracker]


def state_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker equal to what Rasa's replaying `copy` gives, built from `tracker`'s state."""
    clone = tracker.init_copy()  # sender, slot definitions, history limit, rule flag
    clone.events = tracker._create_events(list(tracker.events))
    slots = AnySlotDict() if isinstance(tracker.slots, AnySlotDict) else {}
    for name, slot in tracker.slots.items():
        slots[name] = copy.copy(slot)
    clone.slots = slots
    clone._paused = tracker._paused
    clone.followup_action = tracker.followup_action
    clone.latest_action = tracker.latest_action
    message = tracker.latest_message
    clone.latest_message = UserUttered.empty() if message == UserUttered.empty() else message
    utterance = tracker.latest_bot_utterance
    clone.latest_bot_utterance = (
        BotUttered.empty() if utterance == BotUttered.empty() else utterance
    )
    clone.active_loop = copy.copy(tracker.active_loop)
    return clone


def from_state(replaying: Copy) -> Copy:
    """Rasa's `DialogueStateTracker.copy`, built from the tracker's state (`state_copy`)."""

    @functools.wraps(replaying)
    def _copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
        return state_copy(tracker)

    _copy.from_state = True  # type: ignore[attr-defined]
    return _copy


def install() -> None:
    """Makes `DialogueStateTracker.copy` copy the state instead of replaying (once)."""
    current = DialogueStateTracker.copy
    if getattr(current, "from_state", False):
        return
    DialogueStateTracker.copy = from_state(current)  # type: ignore[method-assign]
