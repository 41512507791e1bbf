"""The action server: Rasa SDK's server for the `actions` package, aware of assisted calls.

`python -m actions.server --port 5055` serves what `rasa run actions --actions actions` serves, and
reads the signed `X-Shop-Assist` header (see `shop.assist_mode`) before every action call, so a
draft for the agent console writes nothing and a sent suggestion acts with the agent's authority.
"""

from __future__ import annotations

import argparse
import logging
import os

from rasa_sdk.endpoint import create_app
from sanic import Sanic
from sanic.request import Request

from shop import assist_mode
from shop.signing import signing_key

logger = logging.getLogger(__name__)


def build_app() -> Sanic:
    """The Rasa SDK app for the `actions` package with the assist header middleware."""
    app = create_app("actions")

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
