"""Dialogue states continued from where they stopped (bot/speedups/prior_states.py): Rasa's own.

Random conversations over the project's domain grow one event at a time on one tracker, as a
conversation does while the Rasa server predicts its actions; after every event the states are
asked for in every way the policies ask, and compared with what Rasa's own function builds from
the session's start. The conversations carry what makes the loop hard to continue: reverted
user messages and actions, forms executed again (their earlier turns undone), rule-only turns
hidden, follow-up actions, restarts and new sessions.
"""

import json
import random
from pathlib import Path

from rasa.shared.core.constants import RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.speedups import prior_states
from tests.bot.rasa_methods import installed_once, rasa_original

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
RASA_STATES = rasa_original(Domain, "states_for_tracker_history", "incremental")

FORMS = sorted(DOMAIN.form_names)[:2]
ACTIONS = ["action_listen", "utter_greet", "action_check_stock", "action_default_fallback", *FORMS]
INTENTS = ["greet", "ask_stock", "inform", "affirm", "request_return"]
SLOTS = ["product", "order_id", "phone_tail", "persona", "requested_slot"]
RULE_ONLY = {RULE_ONLY_SLOTS: ["phone_tail"], RULE_ONLY_LOOPS: FORMS[:1]}
WAYS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"ignore_rule_only_turns": True, "rule_only_data": None},
]


def slot_value(randomly, name):
    if name == "persona":
        return randomly.choice(["default", "master", None])
    if name == "requested_slot":
        return randomly.choice(["order_id", "phone_tail", None])
    return randomly.choice(["H16", "20241123001", None])


def random_event(randomly):
    roll = randomly.random()
    if roll < 0.30:
        return ActionExecuted(randomly.choice(ACTIONS), hide_rule_turn=randomly.random() < 0.3)
    if roll < 0.50:
        entities = [{"entity": "product", "value": "H16", "start": 0, "end": 3}]
        return UserUttered(
            "H16还有货吗",
            {"name": randomly.choice(INTENTS), "confidence": 0.9},
            entities if randomly.random() < 0.5 else [],
        )
    if roll < 0.65:
        name = randomly.choice(SLOTS)
        return SlotSet(name, slot_value(randomly, name))
    if roll < 0.72:
        return ActiveLoop(randomly.choice([*FORMS, None]))
    if roll < 0.76:
        return DefinePrevUserUtteredFeaturization(randomly.random() < 0.2)
    if roll < 0.80:
        return FollowupAction(randomly.choice(ACTIONS[1:]))
    if roll < 0.86:
        return BotUttered("好的")
    if roll < 0.91:
        return UserUtteranceReverted()
    if roll < 0.95:
        return ActionReverted()
    if roll < 0.975:
        return Restarted()
    return SessionStarted()


def as_text(states):
    return json.dumps(states, sort_keys=True, default=list)


def test_the_same_states_as_rasa_after_every_event_of_random_conversations():
    randomly = random.Random(11)
    loops = prior_states.StateLoops(size=8)
    ours = prior_states.incremental(RASA_STATES, loops)
    compared = longest = 0
    for conversation in range(60):
        tracker = DialogueStateTracker(f"customer-{conversation % 7}", DOMAIN.slots)
        for _ in range(randomly.randint(5, 60)):
            tracker.update(random_event(randomly), DOMAIN)
            for way in randomly.sample(WAYS, k=randomly.randint(1, len(WAYS))):
                expected = RASA_STATES(DOMAIN, tracker, **way)
                got = ours(DOMAIN, tracker, **way)
                assert as_text(got) == as_text(expected)
                compared += 1
                longest = max(longest, len(expected))
    assert compared > 1500 and longest > 10


def conversation(sender, *events):
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event, DOMAIN)
    return tracker


def test_a_caller_changing_its_states_does_not_change_the_next_answer():
    ours = prior_states.incremental(RASA_STATES, prior_states.StateLoops())
    tracker = conversation(
        "changer",
        ActionExecuted("action_listen"),
        UserUttered("在吗", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        UserUttered("H16还有货吗", {"name": "ask_stock", "confidence": 1.0}),
    )
    first = ours(DOMAIN, tracker)
    for state in first:  # what the featurizers do to the last user input, and worse
        state.get("user", {}).pop("intent", None)
        state.pop("prev_action", None)
    assert as_text(ours(DOMAIN, tracker)) == as_text(RASA_STATES(DOMAIN, tracker))


def test_sub_states_shared_where_rasa_shares_them():
    ours = prior_states.incremental(RASA_STATES, prior_states.StateLoops())
    tracker = conversation(
        "sharer",
        ActionExecuted("action_listen"),
        UserUttered("在吗", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_check_stock"),
        ActionExecuted("action_default_fallback"),
    )
    way = {"ignore_rule_only_turns": True}
    expected, got = RASA_STATES(DOMAIN, tracker, **way), ours(DOMAIN, tracker, **way)

    def sharing(states):
        users = [state.get("user") for state in states]
        return [
            (i, j) for i in range(len(users)) for j in range(i) if users[i] and users[i] is users[j]
        ]

    assert sharing(got) == sharing(expected) != []


def test_another_tracker_of_the_same_conversation_starts_from_the_beginning():
    loops = prior_states.StateLoops()
    ours = prior_states.incremental(RASA_STATES, loops)
    events = [
        ActionExecuted("action_listen"),
        UserUttered("H16还有货吗", {"name": "ask_stock", "confidence": 1.0}),
        SlotSet("product", "H16"),
        ActionExecuted("action_check_stock"),
    ]
    first = DialogueStateTracker.from_events("same", events, DOMAIN.slots)
    ours(DOMAIN, first)
    other = [*events[:2], SlotSet("product", "T7"), events[3]]  # equal length, other facts
    second = DialogueStateTracker.from_events("same", other, DOMAIN.slots)
    assert as_text(ours(DOMAIN, second)) == as_text(RASA_STATES(DOMAIN, second))
    assert "T7" not in as_text(RASA_STATES(DOMAIN, first))


def test_kept_progress_is_bounded():
    loops = prior_states.StateLoops(size=3)
    ours = prior_states.incremental(RASA_STATES, loops)
    for n in range(10):
        tracker = DialogueStateTracker.from_events(
            f"c{n}", [ActionExecuted("action_listen")], DOMAIN.slots
        )
        ours(DOMAIN, tracker)
    assert len(loops.kept) == 3


def test_install_is_idempotent(monkeypatch):
    originals = {"states_for_tracker_history": RASA_STATES}
    [states] = installed_once(monkeypatch, prior_states.install, Domain, originals)
    assert states.incremental
