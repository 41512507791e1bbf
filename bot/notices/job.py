"""The periodic notice job inside the web app (`make run`): every SHOP_NOTICE_INTERVAL seconds.

The run happens in a worker thread, because delivering a notice makes Rasa call this same web
app's ``/nlg`` to render it. SHOP_NOTICE_INTERVAL=0 switches the job off.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sanic import Sanic

from bot import settings as bot_settings
from bot.notices.delivery import RasaDeliverer
from bot.notices.run import run_once

logger = logging.getLogger(__name__)
FIRST_RUN_AFTER = 30.0


def _run(config: bot_settings.Settings) -> str:
    from shop import settings as shop_settings

    deliverer = RasaDeliverer(config.rasa_url, config.rasa_token)
    if not deliverer.healthy():
        return "Rasa server not ready; notices wait for the next run"
    tz = shop_settings.load().tz
    return run_once(deliverer, config.signing_key, datetime.now(tz), tz).summary()


async def _loop(config: bot_settings.Settings) -> None:
    await asyncio.sleep(min(FIRST_RUN_AFTER, config.notice_interval))
    while True:
        try:
            summary = await asyncio.get_running_loop().run_in_executor(None, _run, config)
            logger.info("notices: %s", summary)
        except Exception:  # keep the job alive; the next run retries
            logger.exception("notice run failed")
        await asyncio.sleep(config.notice_interval)


def install(app: Sanic, config: bot_settings.Settings) -> None:
    """Start the periodic job when the server starts (unless the interval is 0)."""
    if config.notice_interval <= 0:
        return

    @app.after_server_start
    async def start_notice_job(app: Sanic, _loop_arg: object) -> None:
        app.add_task(_loop(config))
