"""Rules matched against the last turns only (bot/speedups/rule_lookup.py): Rasa's own keys."""

import json
import random

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

from bot.speedups import rule_lookup
from tests.bot.rasa_methods import installed_once, rasa_original

RASA_KEYS = rasa_original(RulePolicy, "_get_possible_keys", "last_turns_only")

SUB_STATES = [
    {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}},
    {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "ask_stock"}},
    {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "inform"}},
    {"prev_action": {"action_name": "action_check_stock"}, "user": {"intent": "ask_stock"}},
    {"prev_action": {"action_name": "utter_greet"}, "user": {"intent": "greet"}},
    {
        "prev_action": {"action_name": "return_form"},
        "active_loop": {"name": "return_form"},
        "user": {"intent": "inform"},
    },
    {
        "prev_action": {"action_name": "action_listen"},
        "active_loop": {"name": SHOULD_NOT_BE_SET},
        "user": {"intent": "request_return"},
    },
    {"prev_action": {"action_name": "action_listen"}, "slots": {"order_id": (1.0,)}},
    {"prev_action": {"action_text": "好的"}, "user": {"intent": "affirm"}},
    {"prev_action": {"action_name": SHOULD_NOT_BE_SET}, "user": {"intent": "deny"}},
    {"user": {"intent": "greet"}},
    {},  # a conversation start
]


def rule_key(states):
    return json.dumps(states, sort_keys=True)


def test_the_same_keys_as_rasa_for_random_rules_and_conversations():
    randomly = random.Random(7)
    policy = RulePolicy.__new__(RulePolicy)  # the filter reads no configuration
    patched = rule_lookup.last_turns_only(RASA_KEYS)
    compared = found = 0
    for _ in range(40):
        lookup = {
            rule_key(randomly.choices(SUB_STATES, k=randomly.randint(1, 4))): "action_x"
            for _ in range(randomly.randint(0, 60))
        }
        for _ in range(25):
            states = randomly.choices(SUB_STATES, k=randomly.randint(0, 14))
            expected = RASA_KEYS(policy, lookup, states)
            assert patched(policy, lookup, states) == expected
            compared += 1
            found += bool(expected)
    assert compared == 1000 and 100 < found < 1000  # matches and misses both exercised


def test_the_index_is_remembered_per_lookup_and_follows_a_change():
    policy = RulePolicy.__new__(RulePolicy)
    lookup = {rule_key(SUB_STATES[:2]): "a", rule_key(SUB_STATES[:1]): "b"}
    index = rule_lookup.index_of(policy, lookup)
    assert index.longest == 2 and rule_lookup.index_of(policy, lookup) is index
    assert set(index.by_action) == {"action_listen"} and not index.any_action
    lookup[rule_key(SUB_STATES[:3])] = "c"
    assert rule_lookup.index_of(policy, lookup).longest == 3
    assert rule_lookup.index_of(policy, {}).longest == 0


def test_the_latest_action_picks_its_rules_and_those_naming_none():
    policy = RulePolicy.__new__(RulePolicy)
    listen, stock, start = rule_key(SUB_STATES[:1]), rule_key(SUB_STATES[3:4]), rule_key([{}])
    index = rule_lookup.index_of(policy, {listen: "a", stock: "b", start: "c"})
    assert set(index.candidates(SUB_STATES[0])) == {listen, start}
    assert set(index.candidates(SUB_STATES[3])) == {stock, start}
    assert set(index.candidates({})) == {start}


def test_installed_once(monkeypatch):
    originals = {"_get_possible_keys": RASA_KEYS}
    [keys] = installed_once(monkeypatch, rule_lookup.install, RulePolicy, originals)
    assert keys.last_turns_only
