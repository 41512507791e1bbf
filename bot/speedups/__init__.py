"""Cheaper paths through Rasa 3.6.21 for every customer message, with Rasa's own results.

Each module replaces one hot spot the profile of the Rasa process under load showed
(bench/README.md, "Where a message's time goes") and says what it replaces; each has a test
holding its answers against Rasa's own code. The Rasa server's launcher (`bot.rasa_server`)
calls `install` before Rasa starts; `install` is idempotent.
"""

from __future__ import annotations


def install() -> None:
    """Installs every speed-up in this package (once)."""
    from bot.speedups import (
        event_types,
        frozen_model,
        graph_runs,
        prior_states,
        rule_lookup,
        rule_states_log,
        tracker_copy,
        tracker_rows,
    )

    event_types.install()
    frozen_model.install()
    graph_runs.install()
    rule_lookup.install()
    rule_states_log.install()
    tracker_rows.install()
    prior_states.install()
    tracker_copy.install()
