"""Refunds a person decides, and bursts of phone-tail guessing: the console page /agent/refunds.

Routes (a signed-in frontline agent or supervisor, as `bot.agent.guard` checks):

- `GET /agent/refunds`: the page: refunds under review (the earliest due first), refunds issued
  or reversed in the last days, and the guessing alerts of the last day; each refund with its
  buttons.
- `POST /agent/refunds/<id>/approve` and `/reverse`: a decision, recorded with the agent's name
  and the time (`shop.repository.aftersale.approve_refund`, `reverse_refund`). From the page's
  form: same origin and a form token bound to the console session, answered with a redirect
  back to the page; from a script: same origin and the console's `X-Agent-Console` header,
  answered in JSON.
- `GET /agent/api/refunds` and `GET /agent/api/verification-alerts`: the same lists in JSON.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.agent import accounts
from bot.agent.guard import API_HEADER, Guard, error, in_db, secure
from bot.settings import Settings
from bot.web.origin import same_origin
from shop import clock
from shop.db.models import ReturnRequest
from shop.money import yuan
from shop.policy import refunds as refund_policy
from shop.repository import aftersale as aftersale_repo
from shop.repository import verification
from shop.signing import labelled_mac, same_mac

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
FORM_TOKEN_LABEL = b"agent-refund-review-form"
# How far back the page lists decided refunds and guessing alerts.
DECIDED_SINCE = timedelta(days=7)
ALERTS_SINCE = timedelta(days=1)
DECISIONS = ("approve", "reverse")
STATE_LABELS = {"issued": "已退款", "under_review": "待核对", "reversed": "已撤回"}
# An exchange has no money of its own: its state is that of the replacement (held, sent, declined).
EXCHANGE_STATE_LABELS = {"issued": "换货已发出", "under_review": "待核对", "reversed": "不予换货"}
KIND_LABELS = {"return": "退款", "exchange": "换货"}
REASON_LABELS = {
    "above_limit": "金额超过自动退款上限",
    "unconfirmed_number": "单号不属于已知快递格式",
}
SCOPE_LABELS = {
    "order": "同一订单",
    "conversation": "同一会话",
    "customer": "同一顾客",
    "shop": "全店",
}


def form_token(staff: accounts.StaffSession, key: str) -> str:
    """The token the page's forms carry: bound to this console session, useless elsewhere."""
    return labelled_mac(key, FORM_TOKEN_LABEL, f"{staff.agent_id}.{staff.nonce}")


def _moment(value: Any) -> Optional[str]:
    return clock.moment_text(value)


def _reversible(kind: str, state: str) -> bool:
    """Whether an agent may still reverse it (a replacement already sent is not taken back)."""
    return state == "under_review" or (kind == "return" and state == "issued")


def refund_rows(session: Session) -> List[Dict[str, Any]]:
    """Refunds and held exchanges under review and those decided recently, as JSON-ready rows."""
    since = clock.now() - DECIDED_SINCE
    return [
        {
            "request_id": view.request_id,
            "order_id": view.order_number,
            "kind": view.kind,
            "kind_label": KIND_LABELS.get(view.kind, view.kind),
            "refund_amount": yuan(view.refund_fen),
            "refund_fen": view.refund_fen,
            "state": view.state,
            "state_label": (EXCHANGE_STATE_LABELS if view.kind == "exchange" else STATE_LABELS).get(
                view.state, view.state
            ),
            "reversible": _reversible(view.kind, view.state),
            "state_by": view.state_by,
            "state_at": _moment(view.state_at),
            "review_reason": view.review_reason,
            "review_reason_label": REASON_LABELS.get(view.review_reason or ""),
            "review_due": _moment(view.review_due),
            "tracking_number": view.tracking_number,
            "carrier": view.carrier,
            "shipped_at": _moment(view.shipped_at),
        }
        for view in aftersale_repo.refunds_to_review(session, since)
    ]


def alert_rows(session: Session) -> List[Dict[str, Any]]:
    """Bursts of wrong phone tails of the last day, as JSON-ready rows."""
    return [
        {
            "id": alert.id,
            "scope": alert.scope,
            "scope_label": SCOPE_LABELS.get(alert.scope, alert.scope),
            "subject": alert.subject,
            "failures": alert.failures,
            "first_at": _moment(alert.first_at),
            "last_at": _moment(alert.last_at),
        }
        for alert in verification.recent_alerts(session, clock.now() - ALERTS_SINCE)
    ]


def decide(session: Session, request_id: int, decision: str, agent: str) -> Optional[str]:
    """Carry out an agent's decision on a refund; the refusal's code, or None when done."""
    request = session.get(ReturnRequest, request_id)
    if request is None or request.refund_state is None:
        return "no_such_refund"
    try:
        if decision == "approve":
            aftersale_repo.approve_refund(session, request, agent, clock.now())
        else:
            aftersale_repo.reverse_refund(session, request, agent, clock.now())
    except aftersale_repo.RefundNotChangeable:
        return "refund_not_changeable"
    return None


def create_blueprint() -> Blueprint:
    """Builds the refund review routes (templates loaded on first use)."""
    bp = Blueprint("agent_refund_review")
    templates = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    guard = Guard()

    @bp.exception(SQLAlchemyError)
    async def shop_unavailable(request: Request, problem: Exception) -> HTTPResponse:
        return error("shop_unavailable", 503)

    @bp.get("/agent/refunds")
    async def page(request: Request) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return redirect("/agent") if refused.status == 401 else refused
        config: Settings = request.app.ctx.settings

        def lists(session: Session) -> Dict[str, Any]:
            return {"refunds": refund_rows(session), "alerts": alert_rows(session)}

        found = await in_db(lists)
        text = templates.get_template("agent_refunds.html").render(
            staff=staff,
            token=form_token(staff, config.signing_key),
            limit=yuan(refund_policy.AUTO_REFUND_LIMIT_FEN),
            review_hours=refund_policy.REVIEW_HOURS,
            **found,
        )
        return secure(html(text))

    @bp.get("/agent/api/refunds")
    async def refunds_json(request: Request) -> HTTPResponse:
        _, refused = await guard.check(request)
        if refused:
            return refused
        return secure(json({"refunds": await in_db(refund_rows)}))

    @bp.get("/agent/api/verification-alerts")
    async def alerts_json(request: Request) -> HTTPResponse:
        _, refused = await guard.check(request)
        if refused:
            return refused
        return secure(json({"alerts": await in_db(alert_rows)}))

    @bp.post("/agent/refunds/<request_id:int>/<decision:str>")
    async def decision_route(request: Request, request_id: int, decision: str) -> HTTPResponse:
        from_script = request.headers.get(API_HEADER) == "1"
        if not same_origin(request):
            return error("cross_site_refused", 403)
        staff, refused = await guard.check(request)
        if refused:
            return refused
        if not from_script:
            config: Settings = request.app.ctx.settings
            given = str(request.form.get("token") or "") if request.form else ""
            if not same_mac(form_token(staff, config.signing_key), given):
                return error("cross_site_refused", 403)
        if decision not in DECISIONS:
            return error("unknown_decision", 404)
        problem = await in_db(decide, request_id, decision, staff.username)
        if from_script:
            if problem is not None:
                return error(problem, 404 if problem == "no_such_refund" else 409)
            return secure(json({"request_id": request_id, "decision": decision}))
        if problem == "no_such_refund":
            return error(problem, 404)
        return secure(redirect("/agent/refunds", status=303))

    return bp


__all__ = ["create_blueprint", "decide", "form_token", "refund_rows", "alert_rows"]
