"""`make run`: start every process, report the URLs, restart a crashed one, stop all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys

from bot import processes, settings
from bot.settings import ROOT

HEALTH_EVERY_SECONDS = 10


def main() -> int:
    """Runs the assistant in the foreground until Ctrl-C (or SIGTERM)."""
    os.umask(processes.OWNER_ONLY_UMASK)  # var/, logs/ and the token file: owner only
    config = settings.load()
    settings.write_secret(config.var_dir / "rasa_token", config.rasa_token)
    children = processes.stack(config, ROOT / "logs")
    names = ", ".join(p.name for p in children)
    print(f"Starting {names} (logs in logs/) ...", flush=True)
    try:
        processes.start_all(children)
    except processes.StartupError as error:
        print(f"Start-up failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopping ...", flush=True)
        processes.stop_all(children)
        return 130
    print(f"Storefront      {config.web_url}/  (shop with the chat widget; demo sign-in on top)")
    print(f"Agent console   {config.web_url}/agent  (demo accounts: agent, supervisor)")
    print(f"Trainer workbench {config.web_url}/trainer  (demo account: trainer)")
    print(
        f"Rasa server     {config.rasa_url}  (REST: /webhooks/rest/webhook, socket.io: /socket.io)"
    )
    print(f"Action server   http://{config.host}:{config.action_port}")
    print(f"HTTP API token  in {config.var_dir / 'rasa_token'} (or set RASA_TOKEN)")
    print("Press Ctrl-C to stop.", flush=True)

    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        processes.supervise(children, lambda: stopping, HEALTH_EVERY_SECONDS)
    finally:
        print("Stopping ...", flush=True)
        processes.stop_all(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
