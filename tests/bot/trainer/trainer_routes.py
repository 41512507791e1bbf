"""Every guarded route under /trainer, as the browser test calls it from an agent's browser.

`tests/bot/trainer/test_routes.py` checks this list against the app's router, so a route added
to the workbench without being listed here fails a unit test.
"""

# Open to anyone: they show or hand out no data.
PUBLIC = {("GET", "/trainer"), ("POST", "/trainer/signin"), ("POST", "/trainer/signout")}

MODEL = "shop-assist-candidate.tar.gz"

# (method, registered path, path called)
GUARDED = [
    (
        "POST",
        "/trainer/api/conversations/<conversation_id>/story",
        "/trainer/api/conversations/c-1/story",
    ),
    ("GET", "/trainer/api/me", "/trainer/api/me"),
    ("GET", "/trainer/api/inbox", "/trainer/api/inbox"),
    ("GET", "/trainer/api/inbox/facets", "/trainer/api/inbox/facets"),
    ("GET", "/trainer/api/messages/<event_id:int>/tokens", "/trainer/api/messages/1/tokens"),
    ("POST", "/trainer/api/messages/<event_id:int>/label", "/trainer/api/messages/1/label"),
    ("POST", "/trainer/api/messages/<event_id:int>/ignore", "/trainer/api/messages/1/ignore"),
    ("POST", "/trainer/api/dictionary", "/trainer/api/dictionary"),
    ("GET", "/trainer/api/conversations/<conversation_id>", "/trainer/api/conversations/c-1"),
    ("POST", "/trainer/api/check", "/trainer/api/check"),
    ("GET", "/trainer/api/training", "/trainer/api/training"),
    ("POST", "/trainer/api/training", "/trainer/api/training"),
    ("POST", "/trainer/api/training/cancel", "/trainer/api/training/cancel"),
    ("GET", "/trainer/api/models", "/trainer/api/models"),
    ("POST", "/trainer/api/models/<name>/deploy", f"/trainer/api/models/{MODEL}/deploy"),
    ("POST", "/trainer/api/models/<name>/rollback", f"/trainer/api/models/{MODEL}/rollback"),
    ("GET", "/trainer/api/audit", "/trainer/api/audit"),
]
