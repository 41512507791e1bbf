"""The workbench's operations, each audited.

Labelling, ignoring, dictionary words, training, deploying and rolling back. The routes
(`bot.trainer.blueprint`) only check who asks and translate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set

import yaml

from bot.agent import trackers
from bot.agent.accounts import StaffSession
from bot.rasa_client import RasaUnavailable
from bot.settings import ROOT, Settings
from bot.trainer import audit, deploy, inbox, labels, stories, tokens, training
from bot.trainer.store import engine_for
from bot.trainer.workspace import Workspace, max_intent_drop, replica_urls, workspace_for

HIDDEN_INTENTS = ("nlu_fallback", "out_of_scope")
logger = logging.getLogger(__name__)
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.tar\.gz$")


class Workbench:
    """One web app's workbench: its workspace, database and training job runner."""

    def __init__(self, settings: Settings, workspace: Optional[Workspace] = None) -> None:
        """Opens nothing yet but the database (created on first use)."""
        self.settings = settings
        self.workspace = workspace or workspace_for(settings)
        self.workspace.prepare()
        self.engine = engine_for(self.workspace.database_url)
        self.data = labels.DataFiles(self.workspace.nlu_dir, self.workspace.heldout)
        self.trainer = training.Trainer(self.workspace, self._trained)
        self.deployment: Dict[str, Any] = {}
        self._tasks: Set[asyncio.Task] = set()
        self._domain: Dict[str, Any] = {}
        self._domain_stamp = 0.0

    # -- vocabulary ---------------------------------------------------------------------------

    def domain(self) -> Dict[str, List[str]]:
        """The domain's intents (without internal ones) and entities, re-read when changed."""
        stamp = self.workspace.domain.stat().st_mtime
        if stamp != self._domain_stamp:
            loaded = yaml.safe_load(self.workspace.domain.read_text(encoding="utf-8")) or {}
            intents = [
                i if isinstance(i, str) else next(iter(i)) for i in loaded.get("intents") or []
            ]
            entities = [
                e if isinstance(e, str) else next(iter(e)) for e in loaded.get("entities") or []
            ]
            self._domain = {
                "intents": [
                    i for i in intents if i not in HIDDEN_INTENTS and not i.startswith("EXTERNAL_")
                ],
                "entities": list(entities),
            }
            self._domain_stamp = stamp
        return self._domain

    def tokens(self, text: str) -> List[Dict[str, Any]]:
        """The jieba tokens of a text with the workspace's dictionaries."""
        tokens.load_user_dictionaries(self.workspace.dicts_dir)
        return [{"text": t.text, "start": t.start, "end": t.end} for t in tokens.tokenize(text)]

    # -- inbox decisions ----------------------------------------------------------------------

    def label(
        self, staff: StaffSession, event_id: int, intent: str, entities: Sequence[Dict[str, Any]]
    ) -> Dict[str, Any]:
        """Writes an inbox message into the training data with its intent and entities.

        Raises:
            labels.LabelRefused: see `bot.trainer.labels`; `no_such_message` for an unknown id.
        """
        found = inbox.message(self.engine, event_id)
        if found is None:
            raise labels.LabelRefused("no_such_message")
        vocabulary = self.domain()
        if intent not in vocabulary["intents"]:
            raise labels.LabelRefused("unknown_intent", intent=intent)
        spans = []
        for item in entities:
            name = str(item.get("entity") or "")
            if name not in vocabulary["entities"]:
                raise labels.LabelRefused("unknown_entity", entity=name)
            try:
                spans.append(labels.Entity(int(item["start"]), int(item["end"]), name))
            except (KeyError, TypeError, ValueError) as bad:
                raise labels.LabelRefused("bad_span", reason="out_of_range") from bad
        tokens.load_user_dictionaries(self.workspace.dicts_dir)
        written = self.data.add(found["text"], intent, spans)
        inbox.decide(self.engine, found["text_key"], "labelled", intent)
        before = {"text": found["text"], "model": found["guess"], "status": found["status"]}
        after = {"file": written.file, "intent": intent, "example": written.line}
        audit.record(
            self.engine, staff.username, staff.role, "label", f"message:{event_id}", before, after
        )
        return after

    def ignore(self, staff: StaffSession, event_id: int) -> None:
        """Takes a message (and its near-duplicates) out of the open inbox."""
        found = inbox.message(self.engine, event_id)
        if found is None:
            raise labels.LabelRefused("no_such_message")
        count = inbox.decide(self.engine, found["text_key"], "ignored")
        audit.record(
            self.engine,
            staff.username,
            staff.role,
            "ignore",
            f"message:{event_id}",
            {"text": found["text"], "status": found["status"]},
            {"status": "ignored", "messages": count},
        )

    def add_word(self, staff: StaffSession, word: str) -> str:
        """Adds a word to the shop's jieba dictionary (`data/dicts/shop.txt`)."""
        stored = labels.add_dictionary_word(
            self.workspace.shop_dictionary, word, self.workspace.nlu_dir
        )
        audit.record(
            self.engine,
            staff.username,
            staff.role,
            "dictionary_word",
            self.workspace.shop_dictionary.name,
            None,
            {"word": stored},
        )
        return stored

    def save_story(
        self, staff: StaffSession, conversation_id: str, now: Optional[float] = None
    ) -> Dict[str, Any]:
        """Saves a conversation's current session as a test story (`tests/stories/`).

        Customer intents become the trainer's inbox labels where there are any.

        Args:
            staff: Who saves it.
            conversation_id: Rasa's sender id (already validated).
            now: Unix time for the story's date; the current time when omitted.

        Returns:
            The file (relative to the workspace), the story's name and its steps.

        Raises:
            labels.LabelRefused: `no_such_conversation`, `no_customer_message`,
                `already_saved`, `broken_file`.
        """
        events = trackers.conversation_events(self.settings.tracker_store_url, conversation_id)
        if events is None:
            raise labels.LabelRefused("no_such_conversation")
        inbox.sync(self.engine, self.settings.tracker_store_url)
        texts = [str(e.get("text") or "") for e in events if e.get("event") == "user"]
        labelled = stories.trainer_labels(self.engine, texts)
        name = stories.story_name(
            conversation_id, staff.username, time.time() if now is None else now
        )
        story = stories.build_story(conversation_id, events, labelled.get, name)
        path = self.workspace.saved_stories
        stories.append_story(path, story, self.workspace.nlu_dir)
        steps = [dict(step) for step in story["steps"]]
        after = {
            "file": str(path.relative_to(self.workspace.root)),
            "story": name,
            "steps": steps,
            "relabelled": sorted(set(labelled.values())),
        }
        audit.record(
            self.engine,
            staff.username,
            staff.role,
            "save_story",
            f"conversation:{conversation_id}",
            None,
            after,
        )
        return after

    def check_data(self) -> Dict[str, Any]:
        """Runs the data checks of `make test` on the NLU files (`bot.nlu.data_check`)."""
        done = subprocess.run(
            [sys.executable, "-m", "bot.nlu.data_check", str(self.workspace.nlu_dir)],
            cwd=self.workspace.root,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        problems = [line[8:] for line in done.stdout.splitlines() if line.startswith("PROBLEM ")]
        return {"ok": done.returncode == 0, "problems": problems[:200]}

    # -- training -----------------------------------------------------------------------------

    async def start_training(self, staff: StaffSession) -> training.Job:
        """Starts a job against the model serving now.

        Raises:
            training.Busy: when a job runs.
        """
        serving = await deploy.serving_model(self.settings.rasa_url, self.settings.rasa_token)
        serving_path = self._model_path(serving) if serving else None
        labelled = self.workspace.jobs_dir / "labelled-inbox.json"
        self.workspace.prepare()
        labelled.write_text(
            json.dumps(inbox.labelled(self.engine), ensure_ascii=False), encoding="utf-8"
        )
        labelled.chmod(0o600)
        job = self.trainer.start(staff.username, str(serving_path or ""), labelled)
        audit.record(
            self.engine,
            staff.username,
            staff.role,
            "train",
            job.id,
            {"serving": serving},
            {"data_version": job.data_version},
        )
        return job

    def cancel_training(self, staff: StaffSession) -> bool:
        """Cancels the running job (audited)."""
        job = self.trainer.job
        cancelled = self.trainer.cancel()
        if cancelled and job is not None:
            audit.record(
                self.engine, staff.username, staff.role, "cancel", job.id, "running", "cancelled"
            )
        return cancelled

    def _trained(self, job: training.Job) -> None:
        evaluation = training.load_evaluation(job) or {}
        verdict = deploy.gate(evaluation.get("heldout") or {}, max_intent_drop())
        figures = {
            name: {
                "new": (evaluation.get(name) or {}).get("new", {}).get("macro_f1"),
                "serving": (evaluation.get(name) or {}).get("serving", {}).get("macro_f1"),
                "size": (evaluation.get(name) or {}).get("size", 0),
            }
            for name in ("heldout", "inbox")
            if name in evaluation
        }
        deploy.register(
            self.engine,
            Path(job.model_path).name,
            Path(job.model_path),
            job.data_version,
            job.started_by,
            figures,
            verdict.as_dict(),
        )

    # -- deploy and rollback ------------------------------------------------------------------

    def _model_path(self, name: str) -> Optional[Path]:
        for folder in (self.workspace.models_dir, self.workspace.candidates_dir):
            path = folder / name
            if path.exists():
                return path
        return None

    async def models(self) -> List[Dict[str, Any]]:
        """The model list with the one serving now marked."""
        serving = await deploy.serving_model(self.settings.rasa_url, self.settings.rasa_token)
        return deploy.listing(self.engine, self.workspace.models_dir, serving)

    def begin_deploy(
        self, staff: StaffSession, name: str, override_reason: str = "", rollback: bool = False
    ) -> Dict[str, Any]:
        """Starts loading a model into every Rasa server; `deployment` tells how it went.

        Loading takes Rasa a minute or more, longer than a request may wait, so it runs as a
        task of its own; one deployment at a time. Call from the web app's event loop.

        Args:
            staff: Who deploys.
            name: The model's file name.
            override_reason: A supervisor's reason to deploy through a closed gate.
            rollback: Whether this goes back to an earlier model (no gate).

        Returns:
            The deployment's state (`running`).

        Raises:
            labels.LabelRefused: `no_such_model`, `gate_closed` (with the gate's reasons),
                `override_not_allowed`, `reason_required`, `deploy_running`.
        """
        model = self._model_path(name) if MODEL_NAME.match(name) else None
        if model is None:
            raise labels.LabelRefused("no_such_model")
        reason = ""
        if not rollback:
            verdict = (deploy.entry(self.engine, name) or {}).get("gate") or {"passed": True}
            if not verdict.get("passed", True):
                if not override_reason:
                    raise labels.LabelRefused("gate_closed", reasons=verdict.get("reasons"))
                if staff.role != "supervisor":
                    raise labels.LabelRefused("override_not_allowed")
                if len(override_reason.strip()) < 4:
                    raise labels.LabelRefused("reason_required")
                reason = override_reason.strip()
        if self.deployment.get("state") == "running":
            raise labels.LabelRefused("deploy_running", model=self.deployment.get("model"))
        self.deployment = {
            "model": name,
            "state": "running",
            "by": staff.username,
            "started": time.time(),
            "rollback": rollback,
            "error": "",
        }
        task = asyncio.get_running_loop().create_task(
            self._deploy(staff, name, model, reason, rollback)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return dict(self.deployment)

    async def _deploy(
        self, staff: StaffSession, name: str, model: Path, reason: str, rollback: bool
    ) -> None:
        try:
            before = await deploy.serving_model(self.settings.rasa_url, self.settings.rasa_token)
            previous = self._model_path(before) if before else None
            await deploy.load_everywhere(
                replica_urls(self.settings), self.settings.rasa_token, model, previous
            )
            installed = deploy.install(model, self.workspace.models_dir)
            deploy.mark_serving(self.engine, name, installed, staff.username, reason)
            action = "rollback" if rollback else "gate_override" if reason else "deploy"
            audit.record(
                self.engine,
                staff.username,
                staff.role,
                action,
                name,
                {"serving": before},
                {"serving": name},
                reason,
            )
            self.deployment.update(state="succeeded", previous=before, finished=time.time())
        except (deploy.DeployFailed, RasaUnavailable) as failure:
            logger.warning("model %s did not load: %s", name, failure)
            self.deployment.update(state="failed", error="load_failed", finished=time.time())
        except Exception as problem:  # noqa: BLE001 - the page must learn the deployment ended
            logger.error("deploying %s failed: %s", name, type(problem).__name__)
            self.deployment.update(state="failed", error="deploy_error", finished=time.time())
