"""The web app's factory: one Sanic app that mounts every part's blueprint."""

from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import settings as bot_settings
from bot.agent import refund_review
from bot.agent.console import create_blueprint as agent_console_blueprint
from bot.agent.wakeups import ConversationSignals, push_blueprint
from bot.nlg.blueprint import nlg_blueprint
from bot.notices import job as notice_job
from bot.rasa_client import RasaClient
from bot.trainer.blueprint import create_blueprint as trainer_workbench_blueprint
from bot.web.storefront import create_blueprint as storefront_blueprint


def create_app(config: bot_settings.Settings | None = None, name: str = "shop_web") -> Sanic:
    """Builds the web app; nothing is opened until the server starts.

    Args:
        config: process settings; read from the environment when omitted.
        name: Sanic app name (unique per process).

    Returns:
        The app with every blueprint registered.
    """
    app = Sanic(name)
    app.ctx.settings = config or bot_settings.load()
    # one client of Rasa's HTTP API for every part (its connections open on first use)
    app.ctx.rasa = RasaClient(app.ctx.settings.rasa_url, app.ctx.settings.rasa_token)
    app.blueprint(nlg_blueprint(app.ctx.settings))
    app.ctx.signals = ConversationSignals()
    app.blueprint(push_blueprint(app.ctx.signals, app.ctx.settings.endpoint_secret))
    notice_job.install(app, app.ctx.settings)
    app.blueprint(storefront_blueprint())
    app.blueprint(agent_console_blueprint())
    app.blueprint(refund_review.create_blueprint())  # /agent/refunds
    app.blueprint(trainer_workbench_blueprint())

    @app.after_server_stop
    async def close_rasa_client(app: Sanic, _loop: object) -> None:
        await app.ctx.rasa.close()

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    return app
