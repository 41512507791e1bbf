"""How many wrong phone tails the shop takes before it stops checking them.

An order is proved by its number and the last four digits of the buyer's phone: 10,000 possible
tails, so guessing must be slow. Wrong tails are counted in the shop database (shared by every
process and kept across restarts) per order and per client: the conversation, and the signed-in
customer when there is one. Past a limit the check answers "not found" even for the right tail,
exactly as for an unknown order, until the window has passed; a burst is recorded as an alert
the agent console shows (`/agent/refunds`).

A repeated wrong tail (the same order and digits from the same conversation) counts once: the
actions check a conversation's slots several times per message.
"""

from __future__ import annotations

from datetime import timedelta

# The window the counts below are taken over (a sliding window: the oldest failure leaves it).
WINDOW = timedelta(hours=1)
# Wrong tails for one order, from anyone, before its tail check locks (per WINDOW).
ORDER_FAILURES_ALLOWED = 5
# Wrong tails from one client (a conversation, a signed-in customer), over all orders.
CLIENT_FAILURES_ALLOWED = 10
# A burst worth an alert on the console: a lock reached, or this many failures in the whole shop.
SHOP_FAILURES_ALERT = 50
# Alerts for the same subject within this time are one alert (its count goes up).
ALERT_MERGE = WINDOW


def order_locked(failures: int) -> bool:
    """Whether an order's tail check is locked after this many wrong tails in the window."""
    return failures >= ORDER_FAILURES_ALLOWED


def client_locked(failures: int) -> bool:
    """Whether a client's tail checks are locked after this many wrong tails in the window."""
    return failures >= CLIENT_FAILURES_ALLOWED


__all__ = [
    "ALERT_MERGE",
    "CLIENT_FAILURES_ALLOWED",
    "ORDER_FAILURES_ALLOWED",
    "SHOP_FAILURES_ALERT",
    "WINDOW",
    "client_locked",
    "order_locked",
]
