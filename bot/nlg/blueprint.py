"""``POST /nlg``: Rasa's NLG endpoint, served by the web app."""

from __future__ import annotations

import logging
from typing import Optional

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import settings as bot_settings
from bot.nlg.renderer import Renderer

logger = logging.getLogger(__name__)


def nlg_blueprint(config: bot_settings.Settings, renderer: Optional[Renderer] = None) -> Blueprint:
    """The blueprint with the persona renderer behind ``POST /nlg``.

    Args:
        config: Process settings (shop default persona, signing key).
        renderer: A renderer to use instead of one built from the settings (tests).

    Returns:
        The blueprint.
    """
    blueprint = Blueprint("nlg")
    active = renderer or Renderer(
        shop_default=config.default_persona, signing_key=config.signing_key
    )

    @blueprint.post("/nlg")
    async def nlg(request: Request) -> HTTPResponse:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("response"), str):
            return json({"error": "expected Rasa's NLG request with a response name"}, 400)
        return json(active.render(body))

    return blueprint
