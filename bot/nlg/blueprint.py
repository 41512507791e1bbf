"""``POST /nlg``: Rasa's NLG endpoint, served by the web app, for the Rasa server only."""

from __future__ import annotations

import logging
from typing import Optional

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import settings as bot_settings
from bot.nlg.renderer import Renderer
from shop import endpoint_secret

logger = logging.getLogger(__name__)


def nlg_blueprint(config: bot_settings.Settings, renderer: Optional[Renderer] = None) -> Blueprint:
    """The blueprint with the persona renderer behind ``POST /nlg``.

    A request without the shared endpoint secret (``shop.endpoint_secret``, which Rasa sends from
    ``endpoints.yml``) is refused with 401: the renderer fills templates with whatever facts it is
    given, so only the Rasa server may ask it.

    Args:
        config: Process settings (shop default persona, signing key, endpoint secret).
        renderer: A renderer to use instead of one built from the settings (tests).

    Returns:
        The blueprint.
    """
    blueprint = Blueprint("nlg")
    active = renderer or Renderer(
        shop_default=config.default_persona, signing_key=config.signing_key
    )
    secret = config.endpoint_secret
    if not secret:
        logger.error("no endpoint secret configured: every /nlg request will be refused")

    @blueprint.post("/nlg")
    async def nlg(request: Request) -> HTTPResponse:
        if not endpoint_secret.accepts(request.headers.get(endpoint_secret.HEADER), secret):
            logger.warning("/nlg request without the endpoint secret refused")
            return json({"error": "this endpoint answers the Rasa server only"}, 401)
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("response"), str):
            return json({"error": "expected Rasa's NLG request with a response name"}, 400)
        return json(active.render(body))

    return blueprint
