"""A tracker copied by copying its state, not by replaying its conversation into a new one.

Rasa 3.6 runs every action on a copy of the tracker (`MessageProcessor._run_action`: a rejected
action's policy events must not reach the real one), and `DialogueStateTracker.copy` makes that
copy by replaying every event of the session into a fresh tracker (`travel_back_in_time` with no
limit): work that grows with the conversation, for every action of every message.

With `install`, `copy` builds the same tracker from the state the replay would rebuild: a new
event list holding the same events, each slot copied with its value, the active loop copied, and
the rest of the state (latest action, message, bot utterance, follow-up action, pause) taken as
it is, as the replay takes the same event objects. What the replay does not carry over is not
carried over either: the model and assistant ids and any attribute a new tracker does not have.
The test compares every attribute with Rasa's copy.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import AnySlotDict, DialogueStateTracker

from bot.speedups.patching import replace_once

Copy = Callable[[DialogueStateTracker], DialogueStateTracker]
T = TypeVar("T")

# What a new tracker holds (its `__init__`); nothing else set on a tracker is copied
STATE = tuple(vars(DialogueStateTracker("state", [])))


def same_class_copy(thing: T) -> T:
    """A shallow copy of a plain object (what `copy.copy` makes, without its generic path)."""
    new = thing.__class__.__new__(thing.__class__)
    new.__dict__.update(thing.__dict__)
    return new


def state_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker equal to what Rasa's replaying `copy` gives, built from `tracker`'s state."""
    clone = DialogueStateTracker.__new__(DialogueStateTracker)
    state = vars(clone)
    for name in STATE:
        state[name] = getattr(tracker, name)
    clone.events = tracker._create_events(list(tracker.events))
    slots = AnySlotDict() if isinstance(tracker.slots, AnySlotDict) else {}
    for name, slot in tracker.slots.items():
        slots[name] = same_class_copy(slot)
    clone.slots = slots
    message = tracker.latest_message
    if message is None or message == UserUttered.empty():
        clone.latest_message = UserUttered.empty()  # the tracker's own, as a replay makes it
    utterance = tracker.latest_bot_utterance
    if utterance is None or utterance == BotUttered.empty():
        clone.latest_bot_utterance = BotUttered.empty()
    if tracker.active_loop is not None:
        clone.active_loop = same_class_copy(tracker.active_loop)
    clone.sender_id = tracker.sender_id or DEFAULT_SENDER_ID  # as Rasa's `init_copy` has it
    clone.sender_source = None  # neither these nor the ids set outside the events are copied
    clone.model_id = None
    clone.assistant_id = None
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
    replace_once(DialogueStateTracker, "copy", "from_state", from_state)
