"""The rule policy's states formatted only for a debug line that is written (rule_states_log.py)."""

import logging

from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy

from bot.speedups import rule_states_log
from tests.bot.rasa_methods import installed_once

RASA_FORMAT = Policy.format_tracker_states
STATES = [
    {},
    {
        "user": {"intent": "ask_stock", "entities": ("product",)},
        "prev_action": {"action_name": "action_listen"},
    },
    {"prev_action": {"action_name": "action_check_stock"}, "active_loop": {"name": "product_form"}},
]


def test_rasa_s_text_when_its_debug_line_is_written_and_none_otherwise():
    logger = logging.getLogger(rule_states_log.RULE_POLICY_LOGGER)
    formatting = rule_states_log.only_when_logged(RASA_FORMAT)
    level = logger.level
    try:
        logger.setLevel(logging.DEBUG)
        assert formatting(STATES) == RASA_FORMAT(STATES) and "ask_stock" in formatting(STATES)
        logger.setLevel(logging.INFO)
        assert formatting(STATES) == ""
    finally:
        logger.setLevel(level)


def test_installed_once(monkeypatch):
    originals = {"format_tracker_states": staticmethod(RASA_FORMAT)}
    [formatted] = installed_once(monkeypatch, rule_states_log.install, RulePolicy, originals)
    assert formatted.only_when_logged
