"""The workbench's routes at /trainer: sign-in, the inbox, labels, training, models, audit.

Who may call them is `bot.trainer.access`'s business; what they do is `bot.trainer.service`'s.
Refusals are JSON `{"error": code, ...facts}` that the page's script explains in Chinese.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json

from bot.agent import signin as signin_forms
from bot.agent import throttle, trackers
from bot.agent.conversations import transcript
from bot.agent.guard import error, json_body, secure
from bot.settings import Settings
from bot.trainer import access, audit, deploy, inbox, labels, training
from bot.trainer.service import Workbench

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
SYNC_EVENTS_PER_REQUEST = 5_000
SYNC_EVERY_SECONDS = 5.0

logger = logging.getLogger(__name__)


def _number(value: Optional[str]) -> Optional[float]:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _filters(request: Request) -> inbox.Filters:
    args = request.args
    corrected = {"yes": True, "no": False}.get(args.get("corrected") or "")
    return inbox.Filters(
        intent=(args.get("intent") or "")[:128],
        since=_number(args.get("since")),
        until=_number(args.get("until")),
        channel=(args.get("channel") or "")[:64],
        min_confidence=_number(args.get("min_confidence")),
        max_confidence=_number(args.get("max_confidence")),
        corrected=corrected,
        status=args.get("status") or "open",
        search=(args.get("q") or "").strip()[:100],
    )


async def _file_messages(work: Workbench, store_url: str) -> None:
    """Keeps the inbox index filed from the tracker store in the background.

    A backlog (100,000 messages: about 20 s) is read 5,000 events at a time, so listing the
    inbox never waits for more than one batch.
    """
    while True:
        try:
            read = await asyncio.to_thread(
                inbox.sync, work.engine, store_url, SYNC_EVENTS_PER_REQUEST
            )
        except Exception as problem:  # noqa: BLE001 - the store may be briefly unavailable
            logger.warning("filing the inbox failed: %s", type(problem).__name__)
            read = 0
        await asyncio.sleep(0.1 if read >= SYNC_EVENTS_PER_REQUEST else SYNC_EVERY_SECONDS)


def refused(problem: labels.LabelRefused, status: int = 409) -> HTTPResponse:
    """A refusal with its code and the facts it names."""
    return secure(
        json({"error": problem.code, **problem.detail}, status=status, ensure_ascii=False)
    )


def create_blueprint() -> Blueprint:
    """Builds the workbench's routes (templates and the workbench made on first use)."""
    bp = Blueprint("trainer_workbench")
    templates = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    attempts = throttle.SignInThrottle()  # the console's counts too: one limit for both forms
    made: dict = {}

    def bench(request: Request) -> Workbench:
        return workbench(request.app)

    def workbench(app: Any) -> Workbench:
        if "bench" not in made:
            made["bench"] = Workbench(app.ctx.settings)
        return made["bench"]

    @bp.after_server_start
    async def keep_inbox_filed(app: Any, _loop: object) -> None:
        made["filing"] = asyncio.get_running_loop().create_task(
            _file_messages(workbench(app), app.ctx.settings.tracker_store_url)
        )

    @bp.before_server_stop
    async def stop_filing(app: Any, _loop: object) -> None:
        filing = made.pop("filing", None)
        if filing is not None:
            filing.cancel()

    def render(template: str, status: int = 200, **context: Any) -> HTTPResponse:
        return secure(html(templates.get_template(template).render(**context), status=status))

    def ok(body: Any, status: int = 200) -> HTTPResponse:
        return secure(json(body, status=status, ensure_ascii=False))

    @bp.get("/trainer")
    async def page(request: Request) -> HTTPResponse:
        staff = await access.staff_of(request)
        if staff is None:
            return access.DOOR.form(render)
        if not access.may_use(staff):
            return access.DOOR.form(render, status=403, refused_role=True)
        return render("trainer.html", staff=staff)

    @bp.post("/trainer/signin")
    async def signin(request: Request) -> HTTPResponse:
        return await signin_forms.sign_in(request, access.DOOR, attempts, render)

    @bp.post("/trainer/signout")
    async def signout(request: Request) -> HTTPResponse:
        return await signin_forms.sign_out(request, access.DOOR)

    @bp.get("/trainer/api/me")
    async def me(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        assert staff is not None
        work = bench(request)
        return ok(
            {
                "username": staff.username,
                "display_name": staff.display_name,
                "role": staff.role,
                "may_override": access.may_override(staff),
                **work.domain(),
            }
        )

    @bp.get("/trainer/api/inbox")
    async def listing(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        work = bench(request)
        config: Settings = request.app.ctx.settings
        await asyncio.to_thread(
            inbox.sync, work.engine, config.tracker_store_url, SYNC_EVENTS_PER_REQUEST
        )
        offset = int(_number(request.args.get("offset")) or 0)
        size = int(_number(request.args.get("size")) or inbox.PAGE_SIZE)
        entries, total = await asyncio.to_thread(
            inbox.page, work.engine, _filters(request), offset, size
        )
        return ok({"entries": entries, "total": total, "offset": offset})

    @bp.get("/trainer/api/inbox/facets")
    async def facets(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        work = bench(request)
        return ok(
            {
                "intents": await asyncio.to_thread(inbox.intents_seen, work.engine),
                "channels": await asyncio.to_thread(inbox.channels, work.engine),
            }
        )

    @bp.get("/trainer/api/messages/<event_id:int>/tokens")
    async def message_tokens(request: Request, event_id: int) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        work = bench(request)
        found = inbox.message(work.engine, event_id)
        if found is None:
            return error("no_such_message", 404)
        return ok(
            {"text": found["text"], "tokens": await asyncio.to_thread(work.tokens, found["text"])}
        )

    @bp.post("/trainer/api/messages/<event_id:int>/label")
    async def label(request: Request, event_id: int) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        body = json_body(request)
        entities = body.get("entities") if isinstance(body.get("entities"), list) else []
        try:
            written = await asyncio.to_thread(
                bench(request).label,
                staff,
                event_id,
                str(body.get("intent") or ""),
                [e for e in entities if isinstance(e, dict)],
            )
        except labels.LabelRefused as problem:
            return refused(problem, 404 if problem.code == "no_such_message" else 409)
        return ok(written)

    @bp.post("/trainer/api/messages/<event_id:int>/ignore")
    async def ignore(request: Request, event_id: int) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        try:
            await asyncio.to_thread(bench(request).ignore, staff, event_id)
        except labels.LabelRefused as problem:
            return refused(problem, 404)
        return ok({"ok": True})

    @bp.post("/trainer/api/dictionary")
    async def dictionary(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        word = str(json_body(request).get("word") or "")
        try:
            stored = await asyncio.to_thread(bench(request).add_word, staff, word)
        except labels.LabelRefused as problem:
            return refused(problem)
        return ok({"word": stored})

    @bp.get("/trainer/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        if not trackers.valid_conversation_id(conversation_id):
            return error("bad_conversation_id", 400)
        config: Settings = request.app.ctx.settings
        events = await asyncio.to_thread(
            trackers.conversation_events, config.tracker_store_url, conversation_id
        )
        if events is None:
            return error("no_such_conversation", 404)
        return ok({"conversation_id": conversation_id, "transcript": transcript(events)})

    @bp.post("/trainer/api/conversations/<conversation_id>/story")
    async def save_story(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        if not trackers.valid_conversation_id(conversation_id):
            return error("bad_conversation_id", 400)
        try:
            saved = await asyncio.to_thread(bench(request).save_story, staff, conversation_id)
        except labels.LabelRefused as problem:
            return refused(problem, 404 if problem.code == "no_such_conversation" else 409)
        return ok(saved)

    @bp.post("/trainer/api/check")
    async def check_data(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        return ok(await asyncio.to_thread(bench(request).check_data))

    @bp.get("/trainer/api/training")
    async def training_status(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        job = bench(request).trainer.job
        if job is None:
            return ok({"job": None})
        return ok(
            {
                "job": job.as_dict(),
                "log": training.log_tail(job, 60),
                "evaluation": training.load_evaluation(job) if job.state == "succeeded" else None,
                "gate": (deploy.entry(bench(request).engine, Path(job.model_path).name) or {}).get(
                    "gate"
                )
                if job.model_path
                else None,
                "now": time.time(),
            }
        )

    @bp.post("/trainer/api/training")
    async def train(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        try:
            job = await bench(request).start_training(staff)
        except training.Busy:
            return error("job_running", 409)
        return ok({"job": job.as_dict()}, status=202)

    @bp.post("/trainer/api/training/cancel")
    async def cancel(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        if not bench(request).cancel_training(staff):
            return error("no_job_running", 409)
        return ok({"ok": True})

    @bp.get("/trainer/api/models")
    async def models(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        work = bench(request)
        return ok({"models": await work.models(), "deployment": work.deployment})

    async def _deploy(request: Request, name: str, rollback: bool) -> HTTPResponse:
        staff, refusal = await access.check(request, changes=True)
        if refusal:
            return refusal
        assert staff is not None
        reason = str(json_body(request).get("override_reason") or "").strip()[:500]
        try:
            started = bench(request).begin_deploy(staff, name, reason, rollback=rollback)
        except labels.LabelRefused as problem:
            status = {"no_such_model": 404, "override_not_allowed": 403}.get(problem.code, 409)
            return refused(problem, status)
        return ok({"deployment": started}, status=202)

    @bp.post("/trainer/api/models/<name>/deploy")
    async def deploy_model(request: Request, name: str) -> HTTPResponse:
        return await _deploy(request, name, rollback=False)

    @bp.post("/trainer/api/models/<name>/rollback")
    async def rollback_model(request: Request, name: str) -> HTTPResponse:
        return await _deploy(request, name, rollback=True)

    @bp.get("/trainer/api/audit")
    async def audit_log(request: Request) -> HTTPResponse:
        staff, refusal = await access.check(request)
        if refusal:
            return refusal
        return ok({"entries": await asyncio.to_thread(audit.recent, bench(request).engine)})

    return bp
