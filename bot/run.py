"""`make run`: start every process, report the URLs, restart a crashed one, stop all on Ctrl-C.

`make run-scaled` (`--scaled`) starts the scaled topology instead (`bot/scaled/`): Rasa replicas
behind HAProxy on the public Rasa port, sharing the local PostgreSQL, Redis and RabbitMQ.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import List, Optional, Sequence

from bot import processes, settings
from bot.processes import ManagedProcess
from bot.settings import ROOT, Settings

HEALTH_EVERY_SECONDS = 10


def _scaled_children(config: Settings) -> Optional[List[ManagedProcess]]:
    """The scaled topology's processes after preparing its databases; None (said why) if not."""
    from bot.scaled import balancer, services, topology

    try:
        shared = services.from_env()
    except ValueError as error:
        print(f"Cannot start the scaled topology: {error}", file=sys.stderr)
        return None
    absent = services.missing(shared)
    if absent:
        print(
            "Cannot start the scaled topology: not reachable: "
            + ", ".join(absent)
            + " (see README, Scale-out).",
            file=sys.stderr,
        )
        return None
    if balancer.binary() is None:
        print("HAProxy is not installed: run `make balancer`.", file=sys.stderr)
        return None
    print("Preparing the PostgreSQL databases ...", flush=True)
    try:
        print(topology.prepare_databases(config, shared).strip(), flush=True)
    except RuntimeError as error:
        print(f"Start-up failed: {error}", file=sys.stderr)
        return None
    try:
        return topology.build(config, shared, ROOT / "logs").processes
    except ValueError as error:
        print(f"Cannot start the scaled topology: {error}", file=sys.stderr)
        return None


def _print_urls(config: Settings, children: Sequence[ManagedProcess]) -> None:
    print(f"Storefront      {config.web_url}/  (shop with the chat widget; demo sign-in on top)")
    print(f"Agent console   {config.web_url}/agent  (demo accounts: agent, supervisor)")
    print(f"Trainer workbench {config.web_url}/trainer  (demo account: trainer)")
    print(
        f"Rasa server     {config.rasa_url}  (REST: /webhooks/rest/webhook, socket.io: /socket.io)"
    )
    replicas = [child for child in children if child.name.startswith("rasa replica")]
    if replicas:
        print(f"                load balancer (HAProxy) in front of {len(replicas)} replicas:")
        for replica in replicas:
            print(
                f"                  {replica.name.removeprefix('rasa replica ')} "
                f"{replica.health_url.removesuffix('/status')}"
            )
    print(f"Action server   http://{config.host}:{config.action_port}")
    print(f"HTTP API token  in {config.var_dir / 'rasa_token'} (or set RASA_TOKEN)")
    print("Press Ctrl-C to stop.", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the assistant in the foreground until Ctrl-C (or SIGTERM)."""
    parser = argparse.ArgumentParser(prog="python -m bot.run", description=__doc__)
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="Rasa replicas behind HAProxy on PostgreSQL, Redis and RabbitMQ (make run-scaled)",
    )
    args = parser.parse_args(argv)
    os.umask(processes.OWNER_ONLY_UMASK)  # var/, logs/ and the token file: owner only
    config = settings.load()
    if args.scaled:
        from bot.scaled.topology import scaled_settings

        config = scaled_settings(config)
    settings.write_secret(config.var_dir / "rasa_token", config.rasa_token)
    if args.scaled:
        children = _scaled_children(config)
        if children is None:
            return 1
    else:
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
    _print_urls(config, children)

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
