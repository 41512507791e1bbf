"""A conversation's dialogue states are extended by its new events, not rebuilt from its start.

Rasa 3.6's `Domain.states_for_tracker_history` gives the rule and memoization policies one state
per action of the conversation's session. For that it replays every applied event into a fresh
tracker (`generate_all_prior_trackers`) and builds each state again, for every prediction of every
policy: several times per action, and each time from the session's first event. Under load that
was the largest single share of the Rasa process's CPU (bench/README.md).

With `install`, the loop Rasa runs over the replayed trackers keeps where it stopped, per
conversation and per way of asking (unset slots omitted or not, rule-only turns hidden or not):
the applied events it consumed, the replayed tracker after them, the states built so far and the
loop's two variables (the last ML action, whether the turn is hidden). A later call whose applied
events begin with exactly those event objects continues from there; any other call (events
reverted or undone by a loop, another tracker, another domain) starts from the beginning as Rasa
does. The state after the last event is built for each call and never kept. Callers change the
states they get (the featurizers drop the last user input's text or intent), so each call gets a
copy, two levels deep as the states are, sharing sub-states where Rasa's own list shares them.
"""

from __future__ import annotations

import collections
import functools
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Hashable, List, Optional, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, DefinePrevUserUtteredFeaturization, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.speedups.patching import replace_once

CONVERSATIONS_KEPT = 600  # (conversation, way of asking) pairs whose progress is kept

StatesForHistory = Callable[..., List[State]]


@dataclass
class Progress:
    """Where Rasa's state loop stopped for one conversation and one way of asking."""

    replay: DialogueStateTracker  # the tracker after every event in `applied`
    applied: List[Event] = field(default_factory=list)
    states: List[State] = field(default_factory=list)
    loop: Tuple[Optional[SubState], bool] = (None, False)  # last ML action, turn hidden
    shown: Optional[Event] = None  # the user message the last kept state was built with


@dataclass(frozen=True)
class Asking:
    """One way of asking for the states (Rasa's arguments)."""

    omit_unset_slots: bool
    ignore_rule_only_turns: bool
    rule_only_data: Optional[Dict[str, Any]]


def next_state(
    domain: Domain,
    replay: DialogueStateTracker,
    hide_rule_turn: bool,
    asking: Asking,
    loop: Tuple[Optional[SubState], bool],
    earlier: List[State],
) -> Tuple[Optional[State], Tuple[Optional[SubState], bool]]:
    """One pass of Rasa's loop in `states_for_tracker_history`, its variables passed in and out.

    Args:
        domain: The domain (Rasa's own helpers build the state).
        replay: The tracker before the action (or after the last event).
        hide_rule_turn: The action's `hide_rule_turn` (False after the last event).
        asking: The arguments of the call.
        loop: The loop's variables: the last ML action, whether the turn is hidden.
        earlier: The states built before this one.

    Returns:
        The state to append (None for a hidden turn) and the loop's variables after it.
    """
    last_ml_action, turn_was_hidden = loop
    if asking.ignore_rule_only_turns:
        if not turn_was_hidden:
            last_ml_action = domain._get_prev_action_sub_state(replay)
        if not replay.followup_action and not replay.latest_action_name == replay.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return None, (last_ml_action, turn_was_hidden)

    state = domain.get_active_state(replay, omit_unset_slots=asking.omit_unset_slots)
    if asking.ignore_rule_only_turns:
        domain._remove_rule_only_features(state, asking.rule_only_data)
        if earlier:
            domain._substitute_rule_only_user_input(state, earlier[-1])
        if last_ml_action:
            state[PREVIOUS_ACTION] = last_ml_action
    return domain._clean_state(state), (last_ml_action, turn_was_hidden)


class Restart(Exception):
    """The kept states cannot be continued: a message they show changed (see `advance`)."""


def advance(
    domain: Domain, progress: Progress, applied: List[Event], asking: Asking, continuing: bool
) -> None:
    """Runs the loop over the applied events `progress` has not consumed yet.

    `DefinePrevUserUtteredFeaturization` changes the user message event itself (whether its text
    or its intent stands for it), and Rasa builds every state from the event as it is now. When
    such an event changes a message that earlier kept states already show, those states are
    no longer what Rasa would build: continuing raises `Restart`.
    """
    for event in applied[len(progress.applied) :]:
        replay = progress.replay
        if isinstance(event, ActionExecuted):
            state, progress.loop = next_state(
                domain, replay, event.hide_rule_turn, asking, progress.loop, progress.states
            )
            if state is not None:
                progress.states.append(state)
            progress.shown = replay.latest_message
        elif (
            continuing
            and isinstance(event, DefinePrevUserUtteredFeaturization)
            and replay.latest_message is progress.shown
            and replay.latest_action_name == ACTION_LISTEN_NAME
        ):
            raise Restart()
        replay.update(event)
    progress.applied = applied


def copied(states: List[State]) -> List[State]:
    """The states two levels deep, sharing a sub-state wherever `states` shares it."""
    copies: Dict[int, SubState] = {}
    out = []
    for state in states:
        new_state = {}
        for kind, sub_state in state.items():
            copy = copies.get(id(sub_state))
            if copy is None:
                copy = copies[id(sub_state)] = dict(sub_state)
            new_state[kind] = copy
        out.append(new_state)
    return out


class StateLoops:
    """The progress of Rasa's state loop, kept per conversation and way of asking."""

    def __init__(self, size: int = CONVERSATIONS_KEPT) -> None:
        self.size = size
        self.kept: "collections.OrderedDict[Hashable, Progress]" = collections.OrderedDict()
        self.applied_of: Tuple[Any, ...] = ()  # (tracker, number of events, last event, applied)

    def applied_events(self, tracker: DialogueStateTracker) -> List[Event]:
        """`tracker.applied_events()`, computed once while its events stay the same."""
        events = tracker.events
        last = events[-1] if events else None
        memo = self.applied_of
        if memo and memo[0] is tracker and memo[1] == len(events) and memo[2] is last:
            return memo[3]
        applied = tracker.applied_events()
        self.applied_of = (tracker, len(events), last, applied)
        return applied

    def states(self, domain: Domain, tracker: DialogueStateTracker, asking: Asking) -> List[State]:
        """Rasa's states for the tracker, continuing from the kept progress where it can."""
        applied = self.applied_events(tracker)
        key = (
            tracker.sender_id,
            tracker.is_rule_tracker,
            id(domain),
            asking.omit_unset_slots,
            asking.ignore_rule_only_turns,
            contents(asking.rule_only_data),
        )
        progress = self.kept.pop(key, None)  # kept again only once advanced without an error
        try:
            if progress is None or not continues(progress, applied):
                raise Restart()
            advance(domain, progress, applied, asking, continuing=True)
        except Restart:
            progress = Progress(replay=tracker.init_copy())
            advance(domain, progress, applied, asking, continuing=False)
        self.kept[key] = progress
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        final, _ = next_state(
            domain, progress.replay, False, asking, progress.loop, progress.states
        )
        return copied(progress.states + ([final] if final is not None else []))


def contents(rule_only_data: Optional[Dict[str, Any]]) -> Hashable:
    """The slots and loops only rules use, as a key (Rasa reads the contents only)."""
    if not rule_only_data:
        return ()
    return tuple((kind, tuple(names)) for kind, names in sorted(rule_only_data.items()))


def continues(progress: Progress, applied: List[Event]) -> bool:
    """Whether `applied` begins with the very events `progress` consumed."""
    done = progress.applied
    if done is applied:
        return True
    return len(done) <= len(applied) and all(map(operator.is_, done, applied))


def incremental(states_for_history: StatesForHistory, loops: StateLoops) -> StatesForHistory:
    """Rasa's `Domain.states_for_tracker_history`, continuing from the kept progress."""

    @functools.wraps(states_for_history)
    def states_for_tracker_history(
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[str, Any]] = None,
    ) -> List[State]:
        asking = Asking(omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        return loops.states(domain, tracker, asking)

    states_for_tracker_history.incremental = True  # type: ignore[attr-defined]
    return states_for_tracker_history


def install() -> None:
    """Makes `Domain.states_for_tracker_history` continue from where it stopped (once)."""
    replace_once(
        Domain,
        "states_for_tracker_history",
        "incremental",
        lambda current: incremental(current, StateLoops()),
    )
