"""Rules matched against the last turns only, starting from the rules for the latest action.

Rasa 3.6's `RulePolicy._get_possible_keys` filters its rules (335 here) against every state of
the conversation, newest first, asking of every rule whether it fits every turn. Two things
make most of that work unnecessary, and `install` skips it with the same keys as the result:

- A rule of n states fits every turn older than its n-th, so past the longest rule's length the
  filter keeps everything it kept: only that many of the latest states are filtered.
- A rule whose last state names a previous action fits the latest turn only when that turn's
  previous action is the same (Rasa's `_is_rule_applicable` / `_does_rule_match_state`): only
  the rules for the latest state's previous action, and the rules naming none, are filtered.

Together they were about a tenth of the Rasa process's CPU per message under load.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.generator import State
from rasa.shared.nlu.constants import ACTION_NAME

from bot.speedups.patching import replace_once

PossibleKeys = Callable[[Any, Dict[str, str], List[State]], Set[str]]

CACHE = "_rule_lookup_index"


@dataclass
class LookupIndex:
    """A rule lookup's longest rule and its rules by the previous action of their last state."""

    size: int
    longest: int
    by_action: Dict[str, Dict[str, str]] = field(default_factory=dict)
    any_action: Dict[str, str] = field(default_factory=dict)
    _candidates: Dict[Optional[str], Dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, lookup: Dict[str, str]) -> "LookupIndex":
        """Indexes a lookup (rule key -> action)."""
        index = cls(size=len(lookup), longest=0)
        for key, action in lookup.items():
            states = RulePolicy._rule_key_to_state(key)
            index.longest = max(index.longest, len(states))
            name = _previous_action(states[-1]) if states else None
            if name is None:
                index.any_action[key] = action
            else:
                index.by_action.setdefault(name, {})[key] = action
        return index

    def candidates(self, latest: State) -> Dict[str, str]:
        """The rules that can fit a conversation whose latest state is `latest`."""
        name = _previous_action(latest)
        found = self._candidates.get(name)
        if found is None:
            found = {**self.any_action, **self.by_action.get(name, {})}  # no rule under None
            self._candidates[name] = found
        return found


def _previous_action(state: State) -> Optional[str]:
    """The state's previous action's name, when it names one a rule can require."""
    name = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    return name if name and name != SHOULD_NOT_BE_SET else None


def index_of(policy: Any, lookup: Dict[str, str]) -> LookupIndex:
    """The lookup's index, remembered on the policy that owns it (by identity and size)."""
    cache: Dict[int, LookupIndex] = policy.__dict__.setdefault(CACHE, {})
    index = cache.get(id(lookup))
    if index is None or index.size != len(lookup):
        index = cache[id(lookup)] = LookupIndex.of(lookup)
    return index


def last_turns_only(possible_keys: PossibleKeys) -> PossibleKeys:
    """Rasa's `_get_possible_keys`, given only the rules and states that can decide."""

    @functools.wraps(possible_keys)
    def _get_possible_keys(policy: Any, lookup: Dict[str, str], states: List[State]) -> Set[str]:
        if not states:
            return possible_keys(policy, lookup, states)
        index = index_of(policy, lookup)
        return possible_keys(policy, index.candidates(states[-1]), states[-index.longest :])

    _get_possible_keys.last_turns_only = True  # type: ignore[attr-defined]
    return _get_possible_keys


def install() -> None:
    """Makes `RulePolicy` filter its rules against the last turns only (once)."""
    replace_once(RulePolicy, "_get_possible_keys", "last_turns_only", last_turns_only)
