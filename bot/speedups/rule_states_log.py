"""The rule policy's states are written out for its debug log only when that log is written.

Rasa 3.6's `RulePolicy._find_action_from_rules` formats every state of the conversation as text
(`Policy.format_tracker_states`) and hands a deep copy of it to a debug log call, for every
prediction, whether or not debug logging is on. With `install`, the text is made only when the
rule policy's logger writes debug lines (`rasa run --debug`, `LOG_LEVEL=DEBUG`); otherwise the
call gets an empty text and the log line, which is not written, loses nothing.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable, Dict, List

from rasa.core.policies.rule_policy import RulePolicy

from bot.speedups.patching import replace_once

RULE_POLICY_LOGGER = "rasa.core.policies.rule_policy"  # the logger of Rasa's debug line

FormatStates = Callable[[List[Dict]], str]


def only_when_logged(format_states: FormatStates) -> FormatStates:
    """Rasa's `format_tracker_states`, or an empty text when its debug line is not written."""
    logger = logging.getLogger(RULE_POLICY_LOGGER)

    @functools.wraps(format_states)
    def format_tracker_states(states: List[Dict]) -> str:
        if not logger.isEnabledFor(logging.DEBUG):
            return ""
        return format_states(states)

    format_tracker_states.only_when_logged = True  # type: ignore[attr-defined]
    return format_tracker_states


def install() -> None:
    """Makes `RulePolicy.format_tracker_states` format only for a written debug line (once)."""
    replace_once(
        RulePolicy, "format_tracker_states", "only_when_logged", only_when_logged, static=True
    )
