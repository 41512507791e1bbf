"""Starting, watching and stopping the assistant's processes."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from bot.rasa_client import healthy_blocking
from bot.settings import ROOT, Settings
from shop.endpoint_secret import ENV as ENDPOINT_SECRET_ENV

VENV_BIN = Path(sys.executable).parent
OWNER_ONLY_UMASK = 0o077


def owner_only_dir(path: Path) -> None:
    """Creates the folder if needed and makes it readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set = set()


def _ports_below_ephemeral() -> range:
    """Ports the kernel never picks for an outgoing connection on this machine."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 12000), low)


def free_port() -> int:
    """A TCP port nobody listens on now, so parallel runs do not collide.

    Taken below the kernel's ephemeral range: a port the kernel hands out (``bind`` to 0)
    can be taken by any outgoing connection before the process meant for it listens.
    Ports are not handed out twice by one process.
    """
    candidates = _ports_below_ephemeral()
    for _ in range(200):
        port = random.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise OSError("no free TCP port below the ephemeral range")


def throwaway_settings(var_dir: Path, endpoints: Path) -> Settings:
    """Settings for a private stack (tests, benchmarks): free ports, fresh secrets, no notices.

    Raises:
        FileNotFoundError: when models/ holds no trained model.
    """
    models = ROOT / "models"
    if not list(models.glob("*.tar.gz")):
        raise FileNotFoundError("no trained model in models/: run `make train` (make test does)")
    return Settings(
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        rasa_token=uuid.uuid4().hex,
        signing_key=uuid.uuid4().hex,
        endpoint_secret=uuid.uuid4().hex,
        var_dir=var_dir,
        models_dir=models,
        endpoints=endpoints,
        credentials=ROOT / "credentials.yml",
        default_persona="default",
        notice_interval=0,  # notices are triggered on purpose, not by the clock
    )


def seed_demo_shop(
    var_dir: Path, module: str = "shop.demo.seed", env: Optional[Dict[str, str]] = None
) -> str:
    """Migrates and seeds the demo shop (SHOP_DATABASE_URL, or SQLite in `var_dir`).

    Args:
        var_dir: The shop's var dir (its SQLite file when no SHOP_DATABASE_URL is set).
        module: The seeding command's module (the scale-out's `bot.scaled.databases` also
            creates the PostgreSQL databases first).
        env: Variables for the seeder on top of this process's environment.

    Returns:
        What the seeder printed.

    Raises:
        RuntimeError: with the end of the seeder's error output when it fails.
    """
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={
            **os.environ,
            **(env or {}),
            "SHOP_VAR_DIR": str(var_dir),
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError("seeding the demo shop failed:\n" + done.stderr[-2000:])
    return done.stdout


@dataclass
class ManagedProcess:
    """One child process with a health check and its own log file.

    The check is a GET of `health_url` answered 200, unless `probe` is given (the Rasa server's
    is its token-protected status, asked through `bot.rasa_client`).
    """

    name: str
    command: List[str]
    health_url: str
    log_path: Path
    env: Dict[str, str] = field(default_factory=dict)
    popen: Optional[subprocess.Popen] = None
    probe: Optional[Callable[[], bool]] = None
    started_at: float = 0.0

    def start(self) -> None:
        """Starts the process in its own process group, logging to its file.

        The log and every file the process creates are readable by their owner only (umask 077).
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.log_path, 0o600)
        with os.fdopen(descriptor, "ab") as log:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=OWNER_ONLY_UMASK,
            )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        """Tells whether the process is still running."""
        return self.popen is not None and self.popen.poll() is None

    def healthy(self) -> bool:
        """Tells whether the process answers its health check."""
        if self.probe is not None:
            return self.probe()
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the process's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """Stops the process group: SIGTERM, then SIGKILL after the grace period."""
        if not self.alive():
            return
        assert self.popen is not None
        os.killpg(self.popen.pid, signal.SIGTERM)
        os.killpg(self.popen.pid, signal.SIGCONT)  # a stopped (hung) process must see the TERM
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


class Watchdog:
    """Watches running children: which died, and which stopped answering their health check.

    A process that is still running but fails `misses_allowed` health checks in a row is reported
    once as not answering, and once more when it answers again; it is left running (a slow
    training load or a long garbage collection is no reason to stop the others).
    """

    def __init__(self, children: List[ManagedProcess], misses_allowed: int = 3) -> None:
        """Starts with every child counted as answering.

        Args:
            children: The started processes.
            misses_allowed: Failed health checks in a row before a child is reported.
        """
        self.children = children
        self.misses_allowed = misses_allowed
        self._misses: Dict[str, int] = {child.name: 0 for child in children}

    def dead(self) -> List[ManagedProcess]:
        """The children that are no longer running."""
        return [child for child in self.children if not child.alive()]

    def check_health(self) -> List[str]:
        """Asks every running child's health URL once; returns what changed, as sentences."""
        notes = []
        for child in self.children:
            if not child.alive():
                continue
            misses = 0 if child.healthy() else self._misses[child.name] + 1
            if misses == self.misses_allowed:
                notes.append(
                    f"{child.name} is running but has not answered its health check "
                    f"{misses} times in a row; see {child.log_path}"
                )
            elif misses == 0 and self._misses[child.name] >= self.misses_allowed:
                notes.append(f"{child.name} answers its health check again")
            self._misses[child.name] = misses
        return notes


class Supervisor:
    """Restarts children that died, with back-off; the others keep running meanwhile.

    A child that dies is started again after `first_delay` seconds; each death soon after a
    restart doubles the wait, up to `max_delay`. A child that has run for `stable_after` seconds
    starts over with `first_delay`. Restarting does not wait for the child to become healthy, so
    the runner stays responsive (Ctrl-C) while a slow process such as Rasa loads its model.
    """

    def __init__(
        self,
        children: List[ManagedProcess],
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        stable_after: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watches the started children.

        Args:
            children: The started processes.
            first_delay: Seconds before the first restart of a child.
            max_delay: The longest wait between restarts.
            stable_after: Seconds of running after which a child's back-off starts over.
            clock: Monotonic seconds (tests pass their own).
        """
        self.children = children
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self._clock = clock
        self._delay: Dict[str, float] = {child.name: first_delay for child in children}
        self._due: Dict[str, float] = {}
        self.restarts: Dict[str, int] = {child.name: 0 for child in children}

    def tick(self) -> List[str]:
        """Schedules the restart of children that died and restarts those due; what it did."""
        now = self._clock()
        notes = []
        for child in self.children:
            if child.alive():
                if now - child.started_at >= self.stable_after:
                    self._delay[child.name] = self.first_delay
                continue
            if child.name not in self._due:
                delay = self._delay[child.name]
                self._due[child.name] = now + delay
                code = child.popen.returncode if child.popen else None
                notes.append(
                    f"{child.name} died (exit code {code}); restarting it in {delay:g} s, "
                    f"the others keep serving. Last lines of {child.log_path}:\n{child.log_tail()}"
                )
            elif now >= self._due[child.name]:
                del self._due[child.name]
                child.start()
                child.started_at = now
                self.restarts[child.name] += 1
                self._delay[child.name] = min(self._delay[child.name] * 2, self.max_delay)
                notes.append(f"{child.name} restarted (restart {self.restarts[child.name]})")
        return notes


def supervise(
    children: List[ManagedProcess],
    stopping: Callable[[], bool],
    health_every: int = 10,
    tick_seconds: float = 1.0,
) -> None:
    """Keeps the children running until `stopping()` says so; reports on standard error.

    Every tick restarts what died (`Supervisor`); every `health_every` ticks reports children
    that stopped or started answering their health check (`Watchdog`). The children are left
    running on return (the caller stops them).
    """
    supervisor = Supervisor(children)
    watchdog = Watchdog(children)
    ticks = 0
    while not stopping():
        for note in supervisor.tick():
            print(note, file=sys.stderr, flush=True)
        ticks += 1
        if ticks % health_every == 0:
            for note in watchdog.check_health():
                print(note, file=sys.stderr, flush=True)
        time.sleep(tick_seconds)


class StartupError(RuntimeError):
    """A process died or did not become healthy in time."""


def process_env(settings: Settings) -> Dict[str, str]:
    """The environment every child gets from the settings (secrets here, never in argv)."""
    return {
        "PYTHONPATH": str(ROOT),
        "ACTION_ENDPOINT_URL": settings.action_url,
        "NLG_ENDPOINT_URL": settings.nlg_url,
        "WEB_EVENTS_URL": settings.events_url,
        "SHOP_DEFAULT_PERSONA": settings.default_persona,
        "SHOP_NOTICE_INTERVAL": str(settings.notice_interval),
        "TRACKER_DB": str(settings.tracker_db),
        "SHOP_VAR_DIR": str(settings.var_dir),
        "SHOP_SIGNING_KEY": settings.signing_key,
        ENDPOINT_SECRET_ENV: settings.endpoint_secret,
    }


def action_server(settings: Settings, log_dir: Path, env: Dict[str, str]) -> ManagedProcess:
    """The action server (`python -m actions.server`) on the settings' action port."""
    return ManagedProcess(
        name="action server",
        command=[
            str(VENV_BIN / "python"),
            "-m",
            "actions.server",
            "--host",
            settings.host,
            "--port",
            str(settings.action_port),
        ],
        health_url=f"http://{settings.host}:{settings.action_port}/health",
        log_path=log_dir / "actions.log",
        env=env,
    )


def rasa_server(
    settings: Settings,
    log_dir: Path,
    env: Dict[str, str],
    port: Optional[int] = None,
    name: str = "rasa server",
    log_name: str = "rasa.log",
) -> ManagedProcess:
    """A Rasa server (`python -m bot.rasa_server`) with the settings' model, endpoints and token.

    Args:
        settings: Model folder, endpoints, credentials, host and token.
        log_dir: Where its log goes.
        env: The children's environment (`process_env`, plus any scale-out variables).
        port: Where it listens; the settings' Rasa port when None (one replica behind a load
            balancer listens on a port of its own).
        name: Its name in the runner's messages.
        log_name: Its log file in `log_dir`.
    """
    port = settings.rasa_port if port is None else port
    url = f"http://{settings.host}:{port}"
    return ManagedProcess(
        name=name,
        command=[  # the token reaches Rasa in RASA_TOKEN (bot.rasa_server), never in argv
            str(VENV_BIN / "python"),
            "-m",
            "bot.rasa_server",
            "--model",
            str(settings.models_dir),
            "--enable-api",
            "--cors",
            "*",
            "--interface",
            settings.host,
            "--port",
            str(port),
            "--endpoints",
            str(settings.endpoints),
            "--credentials",
            str(settings.credentials),
        ],
        health_url=f"{url}/status",
        log_path=log_dir / log_name,
        env={**env, "RASA_TOKEN": settings.rasa_token},
        probe=partial(healthy_blocking, url, settings.rasa_token, 2.0),
    )


def web_app(settings: Settings, log_dir: Path, env: Dict[str, str]) -> ManagedProcess:
    """The web app (`python -m bot.web`); it reaches Rasa at the settings' Rasa port."""
    return ManagedProcess(
        name="web app",
        command=[sys.executable, "-m", "bot.web"],
        health_url=f"{settings.web_url}/health",
        log_path=log_dir / "web.log",
        env={
            **env,
            "RASA_TOKEN": settings.rasa_token,
            "SHOP_HOST": settings.host,
            "WEB_PORT": str(settings.web_port),
            "RASA_PORT": str(settings.rasa_port),
            "ACTION_PORT": str(settings.action_port),
        },
    )


def stack(settings: Settings, log_dir: Path) -> List[ManagedProcess]:
    """The web app, the action server and the Rasa server, configured by the settings."""
    owner_only_dir(settings.var_dir)
    owner_only_dir(log_dir)
    env = process_env(settings)
    return [
        web_app(settings, log_dir, env),
        action_server(settings, log_dir, env),
        rasa_server(settings, log_dir, env),
    ]


def start_all(processes: List[ManagedProcess], timeout: float = 240.0) -> None:
    """Starts every process and waits until each is healthy.

    Raises:
        StartupError: when one dies or is not healthy within the timeout; the
            others are stopped before raising.
    """
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting:
        for process in list(waiting):
            if not process.alive():
                stop_all(processes)
                raise StartupError(f"{process.name} exited during start-up:\n{process.log_tail()}")
            if process.healthy():
                waiting.remove(process)
        if waiting and time.monotonic() > deadline:
            stop_all(processes)
            names = ", ".join(p.name for p in waiting)
            raise StartupError(f"not healthy after {timeout:.0f}s: {names}")
        time.sleep(0.5)


def stop_all(processes: List[ManagedProcess]) -> None:
    """Stops every process, last started first."""
    for process in reversed(processes):
        process.stop()


@contextlib.contextmanager
def seeded_stack(
    settings: Settings, log_dir: Path, timeout: float = 300.0
) -> Iterator[List[ManagedProcess]]:
    """Seeds the demo shop, runs the web app, action server and Rasa server for the block.

    For tests and benchmarks with `throwaway_settings`: the shop is `SHOP_DATABASE_URL` or
    SQLite in the settings' var dir, the logs go to `log_dir`, and every process is stopped
    when the block ends.

    Raises:
        RuntimeError: when seeding fails.
        StartupError: when a process does not become healthy (the others are stopped).
    """
    seed_demo_shop(settings.var_dir)
    children = stack(settings, log_dir)
    start_all(children, timeout=timeout)
    try:
        yield children
    finally:
        stop_all(children)


@contextlib.contextmanager
def bench_stack(prefix: str, keep: bool = False) -> Iterator[Tuple[Settings, List[ManagedProcess]]]:
    """A seeded stack of its own for a benchmark, in a temporary folder removed afterwards.

    The folder holds the shop, the tracker store and the processes' logs (`logs/`); with
    `keep` it stays and its path is printed.

    Args:
        prefix: The temporary folder's name prefix (e.g. ``bench-assist-``).
        keep: Keep the folder and say where it is.

    Raises:
        SystemExit: with the reason, when no model is trained or the stack does not start.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        try:
            settings = throwaway_settings(folder / "var", ROOT / "endpoints.yml")
        except FileNotFoundError as missing:
            raise SystemExit(str(missing)) from None
        settings.var_dir.mkdir(parents=True)
        print(f"seeding the demo shop and starting the stack (logs in {folder / 'logs'}) ...")
        try:
            with seeded_stack(settings, folder / "logs") as children:
                yield settings, children
        except StartupError as failure:
            raise SystemExit(f"the stack did not start: {failure}") from failure
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
