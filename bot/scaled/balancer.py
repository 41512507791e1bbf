"""HAProxy in front of the Rasa replicas: its configuration, its process and what it knows.

The configuration comes from `haproxy.cfg.template` beside this module, filled in at every start
and written only its owner can read (it names no secret: the replicas' health check is Rasa's
open `/`, and the HTTP API's token passes through in the requests). What it does:

- balances requests over the replicas (least connections) and says which one answered in the
  `X-Shop-Replica` response header;
- keeps socket.io sessions on the replica that opened them (long polling needs it): the sid in
  a handshake's answer is stored with its replica, later requests follow `?sid=`; websocket
  upgrades pass through;
- checks every replica's health (Rasa's `/`) and stops sending to one that refuses connections
  or fails three checks in a row; a request that cannot reach a replica, or that a dying replica
  drops unanswered, goes to another;
- answers `MONITOR_URI` 200 while at least one replica is up (the runner's health check).

Debian's `haproxy` (`make balancer`, which `make run-scaled` and `make test` run).
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Dict, List, Optional, Sequence

from bot.processes import ManagedProcess

TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
MONITOR_URI = "/balancer/health"
REPLICA_HEADER = "X-Shop-Replica"
BACKEND = "rasa_replicas"
_SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/sbin")


@dataclass(frozen=True)
class Replica:
    """One Rasa replica the balancer sends to."""

    name: str
    host: str
    port: int

    @property
    def url(self) -> str:
        """The replica's own base URL (bypassing the balancer)."""
        return f"http://{self.host}:{self.port}"


def binary() -> Optional[str]:
    """The path of the `haproxy` program, or None when it is not installed."""
    found = shutil.which("haproxy")
    if found:
        return found
    for folder in _SEARCH_PATH:
        candidate = Path(folder) / "haproxy"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def render(
    replicas: Sequence[Replica], bind_host: str, public_port: int, stats_socket: Path
) -> str:
    """The balancer's configuration for these replicas.

    Args:
        replicas: The Rasa replicas, in order.
        bind_host: Where the balancer listens.
        public_port: The public Rasa port (the balancer's).
        stats_socket: The owner-only Unix socket to ask the balancer about its servers.

    Raises:
        ValueError: when there is no replica, or two share a name.
    """
    if not replicas:
        raise ValueError("the balancer needs at least one replica")
    if len({replica.name for replica in replicas}) != len(replicas):
        raise ValueError("replica names must differ")
    servers = "\n".join(
        f"    server {replica.name} {replica.host}:{replica.port} id {number} check"
        for number, replica in enumerate(replicas, start=1)
    )
    use_servers = "\n".join(
        f"    use-server {replica.name} if {{ var(txn.sid_replica) -m int {number} }}"
        for number, replica in enumerate(replicas, start=1)
    )
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        bind_host=bind_host,
        public_port=public_port,
        stats_socket=stats_socket,
        monitor_uri=MONITOR_URI,
        servers=servers,
        use_servers=use_servers,
    )


def write_config(folder: Path, text: str) -> Path:
    """Writes the configuration into `folder` (created owner-only), readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / "haproxy.cfg"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(0o600)
    return path


def stats_socket_path(folder: Path) -> Path:
    """Where the balancer's stats socket lives in its folder."""
    return folder / "haproxy.sock"


def process(
    replicas: Sequence[Replica],
    bind_host: str,
    public_port: int,
    folder: Path,
    log_dir: Path,
    program: Optional[str] = None,
) -> ManagedProcess:
    """The balancer as a child of the runner, its configuration written into `folder` now.

    Raises:
        FileNotFoundError: when `haproxy` is not installed (`make balancer` installs it).
    """
    program = program or binary()
    if program is None:
        raise FileNotFoundError("haproxy is not installed: run `make balancer` (apt-get)")
    config = write_config(
        folder, render(replicas, bind_host, public_port, stats_socket_path(folder))
    )
    return ManagedProcess(
        name="load balancer",
        command=[program, "-db", "-f", str(config)],
        health_url=f"http://{bind_host}:{public_port}{MONITOR_URI}",
        log_path=log_dir / "balancer.log",
    )


def server_states(stats_socket: Path, timeout: float = 2.0) -> Dict[str, str]:
    """Each replica's state as the balancer sees it (`UP`, `DOWN`, `MAINT`, …), by name.

    Raises:
        OSError: when the balancer does not answer on its socket.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(str(stats_socket))
        client.sendall(b"show stat\n")
        chunks: List[bytes] = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    lines = b"".join(chunks).decode().splitlines()
    header = lines[0].lstrip("# ").split(",") if lines else []
    states = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == BACKEND and row.get("svname") not in ("FRONTEND", "BACKEND"):
            states[row["svname"]] = row.get("status", "").split(" ")[0]
    return states
