"""`make notices` / `python -m bot.notices`: send the notices that are due now, once.

Needs the running assistant (`make run`): the Rasa server's token is read from RASA_TOKEN or
var/rasa_token. `--dry-run` only lists what is due.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from bot import settings as bot_settings
from bot.notices.delivery import RasaDeliverer
from bot.notices.due import find_due
from bot.notices.run import DEFAULT_LIMIT, run_once
from shop import settings as shop_settings


def main(argv: list | None = None) -> int:
    """Runs once and prints what was sent (numbers only, no personal data)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list what is due, send nothing")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="most notices to send")
    args = parser.parse_args(argv)
    config = bot_settings.load()
    tz = shop_settings.load().tz
    now = datetime.now(tz)
    if args.dry_run:
        from shop.db import session_scope

        with session_scope() as session:
            due = find_due(session, now, tz)
        for notice in due:
            print(f"{notice.kind:22} {notice.subject_key:18} due {notice.due_at:%Y-%m-%d %H:%M}")
        print(f"{len(due)} due")
        return 0
    token = os.environ.get("RASA_TOKEN")
    token_file = config.var_dir / "rasa_token"
    if not token and token_file.exists():
        token = token_file.read_text().strip()
    deliverer = RasaDeliverer(config.rasa_url, token or config.rasa_token)
    if not deliverer.healthy():
        print(f"The Rasa server at {config.rasa_url} is not running: start it with `make run`.")
        return 1
    report = run_once(deliverer, config.signing_key, now, tz, limit=args.limit)
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
