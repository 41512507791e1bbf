"""`make run`: start every process, report the URLs, stop all on Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time

from bot import processes, settings
from bot.settings import ROOT

HEALTH_EVERY_SECONDS = 10


def _save_token(config: settings.Settings) -> None:
    path = config.var_dir / "rasa_token"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config.rasa_token)
    path.chmod(0o600)


def main() -> int:
    """Runs the assistant in the foreground until Ctrl-C or a process dies."""
    config = settings.load()
    _save_token(config)
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
    watchdog = processes.Watchdog(children)
    ticks = 0
    while not stopping:
        dead = watchdog.dead()
        if dead:
            for process in dead:
                code = process.popen.returncode if process.popen else None
                print(
                    f"{process.name} died (exit code {code}); the others are stopped. "
                    f"Last lines of {process.log_path}:\n{process.log_tail()}",
                    file=sys.stderr,
                )
            processes.stop_all(children)
            return 1
        ticks += 1
        if ticks % HEALTH_EVERY_SECONDS == 0:
            for note in watchdog.check_health():
                print(note, file=sys.stderr, flush=True)
        time.sleep(1)
    print("Stopping ...", flush=True)
    processes.stop_all(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
