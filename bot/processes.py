"""Starting, watching and stopping the assistant's processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT, Settings

VENV_BIN = Path(sys.executable).parent


@dataclass
class ManagedProcess:
    """One child process with a health URL and its own log file."""

    name: str
    command: List[str]
    health_url: str
    log_path: Path
    env: Dict[str, str] = field(default_factory=dict)
    popen: Optional[subprocess.Popen] = None

    def start(self) -> None:
        """Starts the process in its own process group, logging to its file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        """Tells whether the process is still running."""
        return self.popen is not None and self.popen.poll() is None

    def healthy(self) -> bool:
        """Tells whether the health URL answers 200."""
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
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


class StartupError(RuntimeError):
    """A process died or did not become healthy in time."""


def stack(settings: Settings, log_dir: Path) -> List[ManagedProcess]:
    """The web app, the action server and the Rasa server, configured by the settings."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "PYTHONPATH": str(ROOT),
        "ACTION_ENDPOINT_URL": settings.action_url,
        "NLG_ENDPOINT_URL": settings.nlg_url,
        "SHOP_DEFAULT_PERSONA": settings.default_persona,
        "SHOP_NOTICE_INTERVAL": str(settings.notice_interval),
        "TRACKER_DB": str(settings.tracker_db),
        "SHOP_VAR_DIR": str(settings.var_dir),
        "SHOP_SIGNING_KEY": settings.signing_key,
    }
    actions = ManagedProcess(
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
    rasa = ManagedProcess(
        name="rasa server",
        command=[
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(settings.models_dir),
            "--enable-api",
            "--auth-token",
            settings.rasa_token,
            "--cors",
            "*",
            "--interface",
            settings.host,
            "--port",
            str(settings.rasa_port),
            "--endpoints",
            str(settings.endpoints),
            "--credentials",
            str(settings.credentials),
        ],
        health_url=f"{settings.rasa_url}/status?token={settings.rasa_token}",
        log_path=log_dir / "rasa.log",
        env=env,
    )
    web = ManagedProcess(
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
    return [web, actions, rasa]


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
