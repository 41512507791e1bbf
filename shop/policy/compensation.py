"""Who may grant how much: staff roles and their compensation authority."""

from __future__ import annotations

AGENT_ROLES = ("agent", "supervisor", "trainer")
# Compensation each role may grant on its own, in fen; above it a supervisor (or more) decides.
COMPENSATION_LIMIT_FEN = {"agent": 5000, "supervisor": 50000, "trainer": 0}
# What the bot and a frontline agent may grant.
FRONTLINE_LIMIT_FEN = COMPENSATION_LIMIT_FEN["agent"]
