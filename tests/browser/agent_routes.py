"""Every route under /agent the web app registers, and how a customer's browser may call it.

`tests/bot/web/test_agent_routes.py` checks this list against the app's router, so a route added
to the console without being listed here fails a unit test; the browser test
`test_the_customers_browser_cannot_use_the_agent_endpoints` calls every guarded route from a
signed-in customer's browser and expects a refusal without data.

Paths are written as called: `<conversation_id>` is the one placeholder the browser test fills;
a route with other parameters (a refund's id and the decision) is listed with real values.
"""

# The sign-in page and form, and signing out: open to anyone, they show or hand out no data.
PUBLIC = {
    ("GET", "/agent"),
    ("POST", "/agent/signin"),
    ("POST", "/agent/signout"),
}

# Guarded pages that send a browser that is not signed in to the sign-in page (`/agent`): a
# redirect, no data.
SIGN_IN_REDIRECTS = {
    ("GET", "/agent/refunds"),
}

# (method, path, JSON body sent with a POST); `<conversation_id>` is replaced by a real one.
GUARDED = [
    ("GET", "/agent/api/me", None),
    ("GET", "/agent/api/conversations", None),
    ("GET", "/agent/api/conversations/<conversation_id>", None),
    ("POST", "/agent/api/conversations/<conversation_id>/mode", {"mode": "human"}),
    # the long poll: refused at once, not after waiting
    ("GET", "/agent/api/conversations/<conversation_id>/suggestions", None),
    ("POST", "/agent/api/conversations/<conversation_id>/suggestions/shown", {"message_id": "m"}),
    (
        "POST",
        "/agent/api/conversations/<conversation_id>/suggestions/reject",
        {"message_id": "m", "rank": 0},
    ),
    (
        "POST",
        "/agent/api/conversations/<conversation_id>/suggestions/send",
        {"message_id": "m", "rank": 0, "text": "冒充客服"},
    ),
    ("POST", "/agent/api/conversations/<conversation_id>/messages", {"text": "冒充客服"}),
    ("GET", "/agent/metrics", None),
    ("GET", "/agent/metrics.csv", None),
    # refunds a person decides, and the phone-tail guessing alerts
    ("GET", "/agent/api/refunds", None),
    ("GET", "/agent/api/verification-alerts", None),
    ("POST", "/agent/refunds/1/approve", {}),
    ("POST", "/agent/refunds/1/reverse", {}),
]

# Query strings sent with a guarded GET: the long poll asks to wait as long as it may.
QUERIES = {"/agent/api/conversations/<conversation_id>/suggestions": "?after=m&wait=25"}


def listed() -> set:
    """Every (method, path) this module knows: public, redirected to sign-in, or guarded."""
    return PUBLIC | SIGN_IN_REDIRECTS | {(method, path) for method, path, _ in GUARDED}
