"""The action server: Rasa SDK's server for the `actions` package, for Rasa's calls only.

`python -m actions.server --port 5055` serves what `rasa run actions --actions actions` serves,
with two checks before every action call:

- the shared endpoint secret (`shop.endpoint_secret`): `/webhook` and `/actions` answer 401 to a
  request without it, so only the Rasa server (which sends it from `endpoints.yml`) can run an
  action; `/health` stays open for the process runner. No browser origin is allowed (no CORS).
- the signed `X-Shop-Assist` header (see `shop.assist_mode`), so a draft for the agent console
  writes nothing and a sent suggestion acts with the agent's authority.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from shop import assist_mode, endpoint_secret
from shop.signing import signing_key

logger = logging.getLogger(__name__)

# The Rasa SDK's routes that run or list actions (its /health stays open).
GUARDED_PATHS = frozenset({"/webhook", "/actions"})


def build_app() -> Sanic:
    """The Rasa SDK app for the `actions` package with the secret and assist middleware.

    The secret is SHOP_ENDPOINT_SECRET as it is when the app is built; without one every action
    call is refused.
    """
    app = create_app("actions", cors_origins=None)
    secret = endpoint_secret.endpoint_secret()
    if not secret:
        logger.error("%s is not set: every action call will be refused", endpoint_secret.ENV)

    @app.middleware("request")
    async def shared_secret(request: Request) -> Optional[HTTPResponse]:
        if request.path not in GUARDED_PATHS:
            return None
        if endpoint_secret.accepts(request.headers.get(endpoint_secret.HEADER), secret):
            return None
        logger.warning("call of %s without the endpoint secret refused", request.path)
        return json({"error": "this endpoint answers the Rasa server only"}, status=401)

    @app.middleware("request")
    async def assisted_call(request: Request) -> None:
        value = request.headers.get(assist_mode.HEADER)
        if value is None:
            # a kept-alive connection serves its requests in one task: forget the last one's mode
            assist_mode.leave()
            return
        found = assist_mode.read_header(value, signing_key())
        if found is None:
            logger.warning("action call with an invalid assist header refused")
            # a forged or stale header: run as a draft with no authority, never for real
            assist_mode.enter("draft", 0)
            return
        assist_mode.enter(*found)

    return app


def main() -> None:
    """Runs the action server in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build_app().run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
