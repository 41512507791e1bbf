"""Training jobs: one at a time, progress read from the log, cancellable, failures change nothing.

The steps here are small Python programs standing in for `rasa train` (a real training takes
minutes); they write the log lines Rasa writes and the model file where Rasa would.
"""

import sys
import time
from pathlib import Path

import pytest

from bot.trainer import training
from bot.trainer.workspace import Workspace

RASA_LOG = (
    "2026-12-07 09:38:53 INFO rasa.engine.training.hooks  - Starting to train component "
    "'RegexFeaturizer'.\n"
    "2026-12-07 09:38:59 INFO rasa.engine.training.hooks  - Starting to train component "
    "'DIETClassifier'.\n"
    "Epochs:   0%|          | 0/80 [00:00<?, ?it/s]\r"
    "Epochs:   1%|▏         | 1/80 [00:28<37:06, 28.18s/it]\r"
    "Epochs:   2%|▎         | 2/80 [00:35<20:27, 15.73s/it, t_loss=5.24, i_acc=0.838]"
)


def python(code):
    return [sys.executable, "-c", code]


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / "data" / "nlu").mkdir(parents=True)
    (root / "config.yml").write_text("language: zh\n")
    (root / "domain.yml").write_text("intents: [greet]\n")
    (root / "data" / "nlu" / "basics.yml").write_text("nlu: []\n")
    return Workspace(root=root, state_dir=tmp_path / "state", models_dir=tmp_path / "models")


def runner(workspace, steps, done):
    def step_commands(ws, name, evaluation):
        model = ws.candidates_dir / f"{name}.tar.gz"
        return [python(s.replace("MODEL", str(model))) for s in steps]

    return training.Trainer(workspace, done.append, step_commands)


def test_progress_is_the_component_and_epoch_in_the_log(tmp_path):
    log = tmp_path / "job.log"
    log.write_text(RASA_LOG, encoding="utf-8")
    assert training.progress(log) == {"component": "DIETClassifier", "epoch": 2, "epochs": 80}
    log.write_text(RASA_LOG + "\n... Starting to train component 'TEDPolicy'.\n")
    assert training.progress(log) == {"component": "TEDPolicy", "epoch": 0, "epochs": 0}


def test_a_job_runs_its_steps_and_registers_its_model(workspace):
    done = []
    trainer = runner(
        workspace,
        [
            "print('checked')",
            "print('validated')",
            "import pathlib, time; print(\"Starting to train component 'TEDPolicy'.\");"
            "print('Epochs: 40%|##| 2/5 [00:01<00:00]', flush=True); time.sleep(1.5);"
            "pathlib.Path(r'MODEL').write_text('m')",
            "print('evaluated')",
        ],
        done,
    )
    job = trainer.start("trainer", "", workspace.state_dir / "none.json")
    with pytest.raises(training.Busy):
        trainer.start("trainer", "", workspace.state_dir / "none.json")
    deadline = time.monotonic() + 30
    while job.as_dict()["component"] != "TEDPolicy" and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = job.as_dict()  # live while training: the component and its epoch
    assert shown["step"] == "training" and shown["component"] == "TEDPolicy"
    assert (shown["epoch"], shown["epochs"]) == (2, 5)
    trainer.wait(60)
    assert job.state == "succeeded" and done == [job]
    assert Path(job.model_path).exists() and Path(job.model_path).parent == workspace.candidates_dir
    shown = job.as_dict()
    assert shown["step"] == "done" and shown["component"] == "" and shown["epochs"] == 0
    assert set(shown["seconds"]) == {"checking", "training", "evaluating"}
    assert shown["seconds"]["training"] >= 1.5
    assert "checked" in training.log_tail(job) and "evaluated" in training.log_tail(job)
    assert Path(job.log_path).stat().st_mode & 0o777 == 0o600
    assert len(job.data_version) == 12
    assert not workspace.models_dir.exists()  # nothing is served before a deploy


def test_a_failed_step_leaves_no_model_and_registers_nothing(workspace):
    done = []
    trainer = runner(
        workspace,
        ["import pathlib, sys; pathlib.Path(r'MODEL').write_text('half'); sys.exit(3)"],
        done,
    )
    job = trainer.start("trainer", "", workspace.state_dir / "none.json")
    trainer.wait(60)
    assert job.state == "failed" and job.error == "checking_failed"
    assert done == [] and not list(workspace.candidates_dir.glob("*.tar.gz"))
    trainer.start("trainer", "", workspace.state_dir / "none.json")  # the next job may start
    trainer.wait(60)


def test_a_cancelled_job_stops_its_process_and_leaves_nothing(workspace):
    done = []
    trainer = runner(
        workspace,
        ["import pathlib, time; pathlib.Path(r'MODEL').write_text('x'); time.sleep(60)"],
        done,
    )
    job = trainer.start("trainer", "", workspace.state_dir / "none.json")
    deadline = time.monotonic() + 30
    while not list(workspace.candidates_dir.glob("*.tar.gz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    assert trainer.cancel()
    trainer.wait(30)
    assert time.monotonic() - started < 20
    assert job.state == "cancelled" and done == []
    assert not list(workspace.candidates_dir.glob("*.tar.gz"))
    assert not trainer.cancel()  # nothing runs any more


def test_rasa_trains_in_the_workspace_with_its_training_cache(workspace, monkeypatch):
    monkeypatch.delenv("RASA_CACHE_DIRECTORY", raising=False)
    done = []
    trainer = runner(
        workspace,
        [
            "import os, pathlib; print('cwd', os.getcwd());"
            "print('cache', os.environ['RASA_CACHE_DIRECTORY']);"
            "pathlib.Path(r'MODEL').write_text('m')"
        ],
        done,
    )
    job = trainer.start("trainer", "", workspace.state_dir / "none.json")
    trainer.wait(60)
    assert job.state == "succeeded"
    log = training.log_tail(job)
    assert f"cwd {workspace.root.resolve()}" in log
    assert f"cache {(workspace.root / '.rasa' / 'cache').resolve()}" in log
    steps = training.commands(workspace, "m", ["evaluate"])
    assert steps[1][1:3] == ["data", "validate"] and "--fail-on-warnings" in steps[1]
    train = steps[2]
    assert train[1] == "train" and "--skip-validation" in train  # validated the step before
    assert train[train.index("--out") + 1] == str(workspace.candidates_dir)


def test_component_seconds_tell_trained_and_restored_components(tmp_path):
    log = tmp_path / "job.log"
    log.write_text(
        "=== step: training (rasa)\n"
        "\x1b[0m2026-12-07 13:10:58 INFO     rasa.engine.training.hooks  - Starting to train component "
        "'ShopJiebaTokenizer'.\n"
        "2026-12-07 13:10:59 INFO     rasa.engine.training.hooks  - Finished training component "
        "'ShopJiebaTokenizer'.\n"
        "2026-12-07 13:11:16 INFO     rasa.engine.training.hooks  - Starting to train component "
        "'IntentBlend'.\n"
        "Processed trackers: 100%|#####| 511/511\r"
        "2026-12-07 13:12:07 INFO     rasa.engine.training.hooks  - Finished training component "
        "'IntentBlend'.\n"
        "2026-12-07 13:12:07 INFO     rasa.engine.training.hooks  - Restored component "
        "'TEDPolicy' from cache.\n"
        "2026-12-07 13:12:08 INFO     rasa.engine.training.hooks  - Starting to train component "
        "'UnknownWordsGuard'.\n",
        encoding="utf-8",
    )
    assert training.component_seconds(log) == [
        {"component": "ShopJiebaTokenizer", "restored": False, "seconds": 1.0},
        {"component": "IntentBlend", "restored": False, "seconds": 51.0},
        {"component": "TEDPolicy", "restored": True, "seconds": 0.0},
        {"component": "UnknownWordsGuard", "restored": False, "seconds": None},
    ]
    assert training.component_seconds(tmp_path / "missing.log") == []


def test_the_data_version_follows_the_data(workspace):
    before = training.data_version(workspace)
    (workspace.nlu_dir / "basics.yml").write_text("nlu: [] # changed\n")
    assert training.data_version(workspace) != before
