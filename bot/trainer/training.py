"""Training from the page: one job at a time, live progress from its log, cancellable.

A job runs three steps as subprocesses in the workspace, each appending to the job's log:
the data checks of `make test` (`python -m bot.nlu.data_check`, `rasa data validate`), `rasa
train` into the workbench's candidates folder (never `models/`, so the serving model keeps
serving and is still the one served after a restart), and the evaluation of the new model
against the serving one (`bot.trainer.evaluation`). Stage and epoch are read back from the log
(`progress`), the seconds each step and each Rasa component took are kept (`Job.seconds`,
`component_seconds`). A failed or cancelled job leaves no model behind and changes nothing else.

`rasa train` uses Rasa's training cache: a component whose inputs did not change (the dialogue
policies, when only NLU examples did) is restored instead of trained. The cache is the
workspace's own `.rasa/cache`, the one `make train` fills there, and training runs in the
workspace: `make train` records cache entries relative to the folder it ran in, and such an entry
is only found again from that folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from filelock import FileLock, Timeout

from bot.settings import ROOT
from bot.trainer.workspace import Workspace

VENV_BIN = Path(sys.executable).parent
MIN_EXAMPLES_PER_INTENT = 75  # as `make test` checks
_COMPONENT = re.compile(r"(Starting to train|Restored) component '([\w.]+)'")
_EPOCHS = re.compile(r"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")
_STEP = re.compile(r"^=== step: (\w+)", re.MULTILINE)
_COMPONENT_LINE = re.compile(  # a line may begin with the colour reset of a warning before it
    r"^(?:\x1b\[[0-9;]*m)*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) INFO .*?"
    r"(Starting to train|Finished training|Restored) component '([\w.]+)'",
    re.MULTILINE,
)
LOG_TAIL_BYTES = 64_000


class Busy(RuntimeError):
    """A job is already running."""


@dataclass
class Job:
    """One training job as the page shows it."""

    id: str
    started_by: str
    started_at: float
    data_version: str
    log_path: str
    state: str = "running"  # running | succeeded | failed | cancelled
    step: str = "checking"  # checking | training | evaluating | done
    finished_at: Optional[float] = None
    model_path: str = ""
    error: str = ""
    evaluation_path: str = ""
    seconds: Dict[str, float] = field(default_factory=dict)  # per step, as far as it got
    cancel_requested: bool = field(default=False, repr=False)

    def as_dict(self) -> Dict[str, object]:
        """The job with its live progress read from the log (component and epoch while training)."""
        found = {k: v for k, v in asdict(self).items() if k != "cancel_requested"}
        if self.state == "running" and self.step == "training":
            found.update(progress(Path(self.log_path)))
        else:
            found.update(component="", epoch=0, epochs=0)
        found["step"] = self.step
        return found


def data_version(workspace: Workspace) -> str:
    """A short fingerprint of what a model is trained from: config, domain and every data file."""
    digest = hashlib.sha256()
    files = [workspace.config, workspace.domain]
    files += sorted(p for p in (workspace.root / "data").rglob("*") if p.is_file())
    for path in files:
        if path.name.startswith("."):
            continue
        digest.update(str(path.relative_to(workspace.root)).encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def progress(log_path: Path) -> Dict[str, object]:
    """The component being trained and its epoch, read from the end of a job's log."""
    if not log_path.exists():
        return {"component": "", "epoch": 0, "epochs": 0}
    with log_path.open("rb") as log:
        log.seek(max(0, log_path.stat().st_size - LOG_TAIL_BYTES))
        tail = log.read().decode("utf-8", errors="replace").replace("\r", "\n")
    components = _COMPONENT.findall(tail)
    component = components[-1][1] if components else ""
    epoch, epochs = 0, 0
    last_component = tail.rfind(f"component '{component}'") if component else -1
    for match in _EPOCHS.finditer(tail):
        if match.start() > last_component:
            epoch, epochs = int(match.group(1)), int(match.group(2))
    return {"component": component, "epoch": epoch, "epochs": epochs}


def component_seconds(log_path: Path) -> List[Dict[str, object]]:
    """What `rasa train` did with each component, from a job's log, in order.

    Returns:
        `{"component", "restored", "seconds"}` per component: restored from Rasa's training
        cache (0 seconds) or trained (seconds between its start and end lines, whole seconds as
        Rasa logs them; None while it is still training).
    """
    if not log_path.exists():
        return []
    text = log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    found: Dict[str, Dict[str, object]] = {}
    started: Dict[str, float] = {}
    for match in _COMPONENT_LINE.finditer(text):
        moment = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
        what, name = match.group(2), match.group(3)
        if what == "Restored":
            found[name] = {"component": name, "restored": True, "seconds": 0.0}
        elif what == "Starting to train":
            started[name] = moment
            found[name] = {"component": name, "restored": False, "seconds": None}
        elif name in started:
            found[name]["seconds"] = moment - started[name]
    return list(found.values())


def commands(workspace: Workspace, model_name: str, evaluation: List[str]) -> List[List[str]]:
    """The job's steps: data checks, `rasa train` into the candidates folder, evaluation."""
    rasa = str(VENV_BIN / "rasa")
    python = str(VENV_BIN / "python")
    return [
        [
            python,
            "-m",
            "bot.nlu.data_check",
            str(workspace.nlu_dir),
            "--min-examples",
            str(MIN_EXAMPLES_PER_INTENT),
        ],
        [rasa, "data", "validate", "--fail-on-warnings", "--data", "data"],
        [
            rasa,
            "train",
            "--data",
            "data",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--out",
            str(workspace.candidates_dir),
            "--fixed-model-name",
            model_name,
            "--skip-validation",  # the step before validated the data, with warnings as errors
        ],
        evaluation,
    ]


STEP_NAMES = ("checking", "checking", "training", "evaluating")


class Trainer:
    """Runs at most one training job for a workspace and remembers the latest."""

    def __init__(
        self,
        workspace: Workspace,
        on_success: Callable[[Job], None],
        step_commands: Callable[..., List[List[str]]] = commands,
    ) -> None:
        """Nothing runs yet.

        Args:
            workspace: Where the data is and where models and logs go.
            on_success: Called with a job that produced and evaluated a model (in the job's
                thread), to register it.
            step_commands: Builds the steps (tests may shorten them).
        """
        self.workspace = workspace
        self.on_success = on_success
        self.step_commands = step_commands
        self._lock = threading.Lock()
        self._job: Optional[Job] = None
        self._process: Optional[subprocess.Popen] = None
        self._thread: Optional[threading.Thread] = None
        # one job at a time also across web app processes sharing the workspace
        self._machine_lock = FileLock(
            str(workspace.state_dir / "job.lock"), timeout=0, thread_local=False
        )

    @property
    def job(self) -> Optional[Job]:
        """The running or the latest job."""
        return self._job

    def start(self, who: str, serving_model: str, labelled_path: Path) -> Job:
        """Starts a job in a thread of its own.

        Args:
            who: The trainer starting it.
            serving_model: Path of the model serving now ("" when unknown): the evaluation's
                baseline.
            labelled_path: JSON file of the labelled inbox messages for the evaluation.

        Raises:
            Busy: when a job is running.
        """
        self.workspace.prepare()
        with self._lock:
            if self._job is not None and self._job.state == "running":
                raise Busy()
            try:
                self._machine_lock.acquire()
            except Timeout as other:
                raise Busy() from other
            stamp = time.strftime("%Y%m%d-%H%M%S")
            name = f"shop-assist-{stamp}"
            log_path = self.workspace.jobs_dir / f"{name}.log"
            evaluation_path = self.workspace.jobs_dir / f"{name}.evaluation.json"
            job = Job(
                id=name,
                started_by=who,
                started_at=time.time(),
                data_version=data_version(self.workspace),
                log_path=str(log_path),
                evaluation_path=str(evaluation_path),
            )
            model = self.workspace.candidates_dir / f"{name}.tar.gz"
            evaluate = [
                str(VENV_BIN / "python"),
                "-m",
                "bot.trainer.evaluation",
                "--new",
                str(model),
                "--serving",
                serving_model,
                "--heldout",
                str(self.workspace.heldout),
                "--inbox",
                str(labelled_path),
                "--out",
                str(evaluation_path),
            ]
            steps = self.step_commands(self.workspace, name, evaluate)
            self._job = job
            self._thread = threading.Thread(
                target=self._run, args=(job, steps, model), name="trainer-job", daemon=True
            )
            self._thread.start()
            return job

    def cancel(self) -> bool:
        """Stops the running job (its whole process group); False when none runs."""
        with self._lock:
            job, process = self._job, self._process
            if job is None or job.state != "running":
                return False
            job.cancel_requested = True
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        return True

    def wait(self, timeout: Optional[float] = None) -> None:
        """Waits for the job's thread (tests and the benchmark)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, job: Job, steps: List[List[str]], model: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            # the cache `make train` fills in the workspace (keys are content hashes); absolute,
            # so the entries this job adds are found from anywhere
            "RASA_CACHE_DIRECTORY": os.environ.get("RASA_CACHE_DIRECTORY")
            or str(self.workspace.rasa_cache.resolve()),
        }
        try:
            descriptor = os.open(job.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "ab") as log:
                for index, command in enumerate(steps):
                    job.step = STEP_NAMES[min(index, len(STEP_NAMES) - 1)]
                    log.write(f"=== step: {job.step} ({Path(command[0]).name})\n".encode())
                    log.flush()
                    began = time.monotonic()
                    with self._lock:
                        if job.cancel_requested:
                            break
                        self._process = subprocess.Popen(
                            command,
                            cwd=self.workspace.root,
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    code = self._process.wait()
                    job.seconds[job.step] = round(
                        job.seconds.get(job.step, 0.0) + time.monotonic() - began, 1
                    )
                    if job.cancel_requested:
                        break
                    if code != 0:
                        job.state, job.error = "failed", f"{job.step}_failed"
                        break
            if job.cancel_requested:
                job.state = "cancelled"
            elif job.state == "running":
                if not model.exists():
                    job.state, job.error = "failed", "no_model"
                else:
                    job.model_path = str(model)
                    job.step = "done"
                    self.on_success(job)
                    job.state = "succeeded"
        except Exception as problem:  # noqa: BLE001 - the job must end in a state the page shows
            job.state, job.error = "failed", type(problem).__name__
        finally:
            with self._lock:
                self._process = None
            job.finished_at = time.time()
            if job.state != "succeeded" and model.exists():
                model.unlink()  # a failed or cancelled job leaves nothing behind
            self._machine_lock.release()


def log_tail(job: Job, most: int = 200) -> str:
    """The last lines of a job's log (progress bars collapsed to their last state)."""
    path = Path(job.log_path)
    if not path.exists():
        return ""
    with path.open("rb") as log:
        log.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
        text = log.read().decode("utf-8", errors="replace")
    lines = [line.split("\r")[-1] for line in text.split("\n")]
    return "\n".join(lines[-most:])


def load_evaluation(job: Job) -> Optional[Dict[str, object]]:
    """The job's evaluation, when it has one."""
    path = Path(job.evaluation_path)
    if not job.evaluation_path or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
