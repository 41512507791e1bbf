"""A tracker copied from its state (bot/speedups/tracker_copy.py): every attribute as Rasa's copy.

Random conversations over the project's domain (the events of test_prior_states.py); after every
event the copy is compared attribute by attribute with the copy Rasa makes by replaying, then
changed, and the original must not change with it.
"""

import random

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.speedups import tracker_copy
from tests.bot.rasa_methods import installed_once, rasa_original
from tests.bot.speedups.test_prior_states import DOMAIN, random_event

FORM = sorted(DOMAIN.form_names)[0]
RASA_COPY = rasa_original(DialogueStateTracker, "copy", "from_state")


def described(tracker):
    """Every attribute of the tracker, slots and active loop by their own attributes."""
    out = {}
    for name, value in vars(tracker).items():
        if name == "events":
            out[name] = ([id(event) for event in value], value.maxlen)
        elif name == "slots":
            out[name] = (type(value), {k: sorted(vars(s).items()) for k, s in value.items()})
        elif name == "active_loop":
            out[name] = None if value is None else sorted(vars(value).items())
        elif name in ("latest_message", "latest_bot_utterance"):
            if any(value is event for event in tracker.events):
                out[name] = id(value)  # one of the conversation's events: that very one
            else:  # an empty one of the tracker's own, made when it was (the time aside)
                out[name] = {k: v for k, v in value.as_dict().items() if k != "timestamp"}
        else:
            out[name] = value
    return out


def test_every_attribute_as_rasa_s_copy_after_every_event():
    randomly = random.Random(5)
    compared = 0
    for conversation in range(40):
        tracker = DialogueStateTracker(f"customer-{conversation}", DOMAIN.slots)
        tracker.model_id = "model-1"  # set outside the events: Rasa's copy drops them
        tracker.sender_source = "stories.yml"
        tracker.read_from_rows = 12
        for _ in range(randomly.randint(3, 40)):
            tracker.update(random_event(randomly), DOMAIN)
            expected, got = RASA_COPY(tracker), tracker_copy.state_copy(tracker)
            assert described(got) == described(expected)
            assert got.current_state() == expected.current_state()
            compared += 1
    assert compared > 500


def test_changing_the_copy_leaves_the_original_as_it_was():
    tracker = DialogueStateTracker.from_events(
        "alice",
        [
            ActionExecuted("action_listen"),
            UserUttered("H16还有货吗", {"name": "ask_stock", "confidence": 1.0}),
            SlotSet("product", "H16"),
            ActiveLoop(FORM),
            ActionExecutionRejected(FORM),
        ],
        DOMAIN.slots,
    )
    before = tracker.current_state()
    clone = tracker_copy.state_copy(tracker)
    for event in [SlotSet("product", "T7"), ActionExecuted(FORM)]:
        clone.update(event, DOMAIN)
    assert tracker.current_state() == before and tracker.active_loop.rejected
    assert not clone.active_loop.rejected
    assert clone.get_slot("product") == "T7" and tracker.get_slot("product") == "H16"
    assert len(clone.events) == len(tracker.events) + 2


def test_installed_once(monkeypatch):
    originals = {"copy": RASA_COPY}
    [copy] = installed_once(monkeypatch, tracker_copy.install, DialogueStateTracker, originals)
    assert copy.from_state
