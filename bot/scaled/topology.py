"""The processes of the scaled topology: Rasa replicas, the balancer, web app, action server.

`build` lays them out for the runner (`bot.run --scaled`, which supervises them as `make run`
does: restart with back-off, process groups, Ctrl-C stops all); `running` prepares the
databases, starts everything and stops it after a block (tests, `bench/soak.py`).

The public Rasa port of the settings is the balancer's; replica *i* listens on an internal port
and logs to `rasa-<i>.log`. The web app talks to Rasa through the balancer and loads a deployed
model into every replica (`SHOP_RASA_REPLICAS`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from bot import processes
from bot.processes import ManagedProcess
from bot.scaled import balancer
from bot.scaled.services import ScaledServices
from bot.settings import ROOT, Settings

SCALE_OUT_ENDPOINTS = ROOT / "endpoints.scale-out.yml"
REPLICAS_ENV = "SHOP_RASA_REPLICAS"  # read by bot/trainer/workspace.py (deploying a model)


@dataclass
class Topology:
    """The scaled topology's processes, in start order (the balancer last)."""

    settings: Settings
    services: ScaledServices
    replicas: List[balancer.Replica]
    web: ManagedProcess
    actions: ManagedProcess
    rasa: List[ManagedProcess]
    balancer: ManagedProcess
    balancer_dir: Path

    @property
    def processes(self) -> List[ManagedProcess]:
        """Every process, web app first, balancer last (stopped in the reverse order)."""
        return [self.web, self.actions, *self.rasa, self.balancer]

    @property
    def public_url(self) -> str:
        """The balancer's URL: where customers, the web app and API clients reach Rasa."""
        return self.settings.rasa_url

    def server_states(self) -> dict:
        """Each replica's state in the balancer (`UP`, `DOWN`, …), by replica name."""
        return balancer.server_states(balancer.stats_socket_path(self.balancer_dir))

    def wait_all_up(self, timeout: float) -> None:
        """Waits until the balancer sends to every replica.

        A replica that was still loading its model when the balancer started is marked down
        by its first health checks and taken back only after two good ones, seconds after it
        answers: until then every request would go to the others.

        Raises:
            processes.StartupError: when a replica is not up in the balancer within `timeout`.
        """
        deadline = time.monotonic() + timeout
        states: dict = {}
        while time.monotonic() < deadline:
            try:
                states = self.server_states()
            except OSError:
                states = {}
            if states and all(state == "UP" for state in states.values()):
                return
            time.sleep(0.2)
        raise processes.StartupError(f"replicas not all up in the balancer: {states}")


def scaled_settings(settings: Settings) -> Settings:
    """The settings with `endpoints.scale-out.yml` unless other endpoints than the default were set."""
    if settings.endpoints.resolve() == (ROOT / "endpoints.yml").resolve():
        return dataclasses.replace(settings, endpoints=SCALE_OUT_ENDPOINTS)
    return settings


def replica_ports(services: ScaledServices) -> List[int]:
    """The replicas' internal ports: `RASA_REPLICA_PORT`, then the next ones."""
    return [services.replica_port + number for number in range(services.replicas)]


def build(
    settings: Settings,
    services: ScaledServices,
    log_dir: Path,
    ports: Optional[Sequence[int]] = None,
    haproxy: Optional[str] = None,
) -> Topology:
    """Lays out the processes and writes the balancer's configuration (nothing is started).

    Args:
        settings: Ports, secrets, var dir; `rasa_port` is the balancer's public port.
        services: The shared services and how many replicas.
        log_dir: Where every process logs (`rasa-<i>.log`, `balancer.log`, …).
        ports: The replicas' internal ports (`replica_ports(services)` when None).
        haproxy: The balancer program (found on the path when None).

    Raises:
        FileNotFoundError: when HAProxy is not installed.
        ValueError: when the number of ports differs from the number of replicas, or a replica
            would listen on the balancer's port.
    """
    ports = list(replica_ports(services) if ports is None else ports)
    if len(ports) != services.replicas:
        raise ValueError(f"{services.replicas} replicas need as many ports, got {len(ports)}")
    if settings.rasa_port in ports:
        raise ValueError(f"a replica cannot listen on the balancer's port {settings.rasa_port}")
    processes.owner_only_dir(settings.var_dir)
    processes.owner_only_dir(log_dir)
    env = {**processes.process_env(settings), **services.env()}
    replicas = [
        balancer.Replica(f"rasa-{number}", settings.host, port)
        for number, port in enumerate(ports, start=1)
    ]
    rasa = [
        processes.rasa_server(
            settings,
            log_dir,
            env,
            port=replica.port,
            name=f"rasa replica {replica.name}",
            log_name=f"{replica.name}.log",
        )
        for replica in replicas
    ]
    web_env = {**env, REPLICAS_ENV: ",".join(replica.url for replica in replicas)}
    balancer_dir = settings.var_dir / "balancer"
    front = balancer.process(
        replicas, settings.host, settings.rasa_port, balancer_dir, log_dir, program=haproxy
    )
    return Topology(
        settings=settings,
        services=services,
        replicas=replicas,
        web=processes.web_app(settings, log_dir, web_env),
        actions=processes.action_server(settings, log_dir, env),
        rasa=rasa,
        balancer=front,
        balancer_dir=balancer_dir,
    )


def prepare_databases(settings: Settings, services: ScaledServices) -> str:
    """Creates the shop and tracker databases if needed and seeds the shop (a subprocess).

    Returns:
        What was done, as the preparation printed it.

    Raises:
        RuntimeError: when it fails (with the end of its error output).
    """
    env = services.env()
    if services.demo:  # the default URL again, so the preparation knows it was not given
        del env["SHOP_DATABASE_URL"]
    return processes.seed_demo_shop(settings.var_dir, module="bot.scaled.databases", env=env)


@contextlib.contextmanager
def running(
    settings: Settings,
    services: ScaledServices,
    log_dir: Path,
    ports: Optional[Sequence[int]] = None,
    timeout: float = 420.0,
) -> Iterator[Topology]:
    """Prepares the databases, runs the whole topology for the block, then stops it.

    Raises:
        processes.StartupError: when a process does not become healthy (the others are stopped).
    """
    prepare_databases(settings, services)
    topology = build(settings, services, log_dir, ports)
    processes.start_all(topology.processes, timeout=timeout)
    try:
        topology.wait_all_up(timeout=30.0)
        yield topology
    finally:
        processes.stop_all(topology.processes)


@contextlib.contextmanager
def supervised(children: List[ManagedProcess], tick_seconds: float = 0.5) -> Iterator[None]:
    """Runs the runner's supervision (restart with back-off) in a thread for the block."""
    done = threading.Event()
    thread = threading.Thread(
        target=processes.supervise,
        args=(children, done.is_set),
        kwargs={"tick_seconds": tick_seconds},
        name="supervisor",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)
