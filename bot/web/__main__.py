"""`python -m bot.web`: serve the web app on SHOP_HOST:WEB_PORT."""

from __future__ import annotations

from bot import settings
from bot.web.app import create_app


def main() -> None:
    """Runs the web app in the foreground (one worker)."""
    config = settings.load()
    app = create_app(config)
    app.run(host=config.host, port=config.web_port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
