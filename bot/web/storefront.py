"""The storefront blueprint: product list and page, demo sign-in, chat widget and its history."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect
from sqlalchemy.exc import SQLAlchemyError

from bot.rasa_client import RasaUnavailable
from bot.settings import Settings
from bot.web import auth, shop, signouts
from bot.web.history import fetch_history
from bot.web.limits import MAX_MESSAGE_CHARS
from bot.web.origin import same_origin
from bot.web.personas import PERSONAS
from shop.db import session_scope
from shop.money import price_tag

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
PERSONAS_DIR = HERE.parents[1] / "personas"

# The anonymous widget's session secret travels in a header, never in a URL (URLs are logged).
SECRET_HEADER = "X-Chat-Secret"

logger = logging.getLogger(__name__)


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = price_tag
    return env


def persona_labels(folder: Path = PERSONAS_DIR) -> List[Dict[str, str]]:
    """The persona picker's entries: each persona's `name` from its file, else the built-in one."""
    entries = []
    for persona_id, label in PERSONAS:
        path = folder / f"{persona_id}.yml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            name = data.get("name") if isinstance(data, dict) else None
        except (OSError, yaml.YAMLError):
            name = None
        entries.append({"id": persona_id, "name": str(name or label)})
    return entries


def rasa_public_url(request: Request, config: Settings) -> str:
    """The Rasa server's URL as the visitor's browser reaches it.

    `SHOP_RASA_PUBLIC_URL` when set (behind an ingress that serves /socket.io on the page's own
    origin, that origin); otherwise the page's host at Rasa's port.
    """
    if config.rasa_public_url:
        return config.rasa_public_url.rstrip("/")
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return f"{request.scheme}://{host or config.host}:{config.rasa_port}"


def _csp(rasa_url: str) -> str:
    parts = urlsplit(rasa_url)
    ws = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {rasa_url} {ws}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def _safe_next(target: Optional[str]) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _db(work: Callable[..., Any], *args: Any) -> Any:
    def run() -> Any:
        with session_scope() as session:
            return work(session, *args)

    return await asyncio.to_thread(run)


def create_blueprint() -> Blueprint:
    """Builds the storefront's routes and its static files (templates loaded on first use)."""
    bp = Blueprint("storefront")
    bp.static("/static", str(STATIC_DIR), name="static")
    templates = _templates()
    personas = persona_labels()

    async def signed_in(request: Request) -> Optional[auth.SignedIn]:
        """The customer of a valid session cookie that was not revoked by signing out."""
        key = request.app.ctx.settings.signing_key
        found = auth.read_cookie(request.cookies.get(auth.COOKIE_NAME), key)
        if found is None:
            return None
        if await _db(signouts.current_generation, found.customer_id) != found.generation:
            return None
        return found

    async def page(
        request: Request, template: str, page_product_id: Optional[int] = None, **context: Any
    ) -> HTTPResponse:
        config: Settings = request.app.ctx.settings
        who = await signed_in(request)
        customer_id = who.customer_id if who else None
        customers = await _db(shop.demo_customers)
        nickname = next((c.nickname for c in customers if c.id == customer_id), None)
        if nickname is None and customer_id is not None:
            nickname = await _db(shop.customer_nickname, customer_id)
        if nickname is None:
            customer_id = None
        rasa_url = rasa_public_url(request, config)
        chat: Dict[str, Any] = {
            "rasaUrl": rasa_url,
            "socketPath": "/socket.io",
            "historyUrl": "/chat/history",
            "identityUrl": "/chat/identity",
            "maxChars": MAX_MESSAGE_CHARS,
            "personas": personas,
            "customer": None,
            "pageProductId": page_product_id,
        }
        if customer_id is not None and who is not None:
            identity = auth.chat_identity(customer_id, config.signing_key, who.generation)
            chat["customer"] = {
                "nickname": nickname,
                "sessionId": identity["session_id"],
                "customData": identity["custom_data"],
            }
        body = templates.get_template(template).render(
            customer_id=customer_id,
            nickname=nickname,
            demo_customers=customers,
            next_path=request.path,
            chat=chat,
            **context,
        )
        response = html(body)
        response.headers["Content-Security-Policy"] = _csp(rasa_url)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if customer_id is not None:
            response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.exception(SQLAlchemyError)
    async def shop_unavailable(request: Request, error: Exception) -> HTTPResponse:
        logger.error("shop database unavailable: %s", type(error).__name__)
        body = templates.get_template("unavailable.html").render()
        return html(body, status=503)

    @bp.get("/")
    async def index(request: Request) -> HTTPResponse:
        category = (request.args.get("category") or "").strip()[:32] or None
        cats = await _db(shop.categories)
        if category not in {name for name, _ in cats}:
            category = None
        products = await _db(shop.product_list, category)
        return await page(
            request, "index.html", categories=cats, category=category, products=products
        )

    @bp.get("/products/<product_id:int>")
    async def product(request: Request, product_id: int) -> HTTPResponse:
        found = await _db(shop.product_page, product_id)
        if found is None:
            raise NotFound("没有这件商品")
        cats = await _db(shop.categories)
        return await page(
            request,
            "product.html",
            page_product_id=product_id,
            categories=cats,
            category=found.card.category,
            item=found,
        )

    @bp.post("/signin")
    async def signin(request: Request) -> HTTPResponse:
        if not same_origin(request):
            return json({"error": "cross-site sign-in refused"}, status=403)
        wanted = str(request.form.get("customer_id") or "").strip()
        target = _safe_next(request.form.get("next"))
        allowed = {c.id for c in await _db(shop.demo_customers)}
        if not wanted.isdigit() or int(wanted) not in allowed:
            return redirect(target)
        response = redirect(target)
        key = request.app.ctx.settings.signing_key
        generation = await _db(signouts.current_generation, int(wanted))
        response.cookies[auth.COOKIE_NAME] = auth.make_cookie(int(wanted), key, generation)
        cookie = response.cookies[auth.COOKIE_NAME]
        cookie["httponly"] = True
        cookie["samesite"] = "Lax"
        cookie["path"] = "/"
        cookie["max-age"] = auth.MAX_AGE_SECONDS
        return response

    @bp.post("/signout")
    async def signout(request: Request) -> HTTPResponse:
        if not same_origin(request):
            return json({"error": "cross-site sign-out refused"}, status=403)
        who = await signed_in(request)
        if who is not None:  # every cookie and chat signature issued to the customer dies
            await _db(signouts.sign_out, who.customer_id)
        response = redirect(_safe_next(request.form.get("next")))
        del response.cookies[auth.COOKIE_NAME]
        return response

    @bp.get("/chat/identity")
    async def identity(request: Request) -> HTTPResponse:
        """A fresh chat signature for the signed-in customer (the widget's expired, say)."""
        who = await signed_in(request)
        if who is None:
            return json({"error": "signed_out", "reason": "not signed in"}, status=401)
        found = auth.chat_identity(
            who.customer_id, request.app.ctx.settings.signing_key, who.generation
        )
        response = json({"sessionId": found["session_id"], "customData": found["custom_data"]})
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.get("/chat/history")
    async def history(request: Request) -> HTTPResponse:
        config: Settings = request.app.ctx.settings
        secret = request.headers.get(SECRET_HEADER)
        session_id = str(request.args.get("session_id") or "")[:64]
        if not session_id and secret:
            session_id = auth.anonymous_session_id(secret) or ""
        who = await signed_in(request)
        customer_id = who.customer_id if who else None
        if not auth.may_read_history(session_id, customer_id, config.signing_key, secret):
            return json({"error": "not your conversation"}, status=403)
        try:
            restored = await fetch_history(request.app.ctx.rasa, session_id)
        except RasaUnavailable as error:
            logger.warning("history unavailable: %s", error)
            return json({"error": "history unavailable"}, status=502)
        response = json(restored, ensure_ascii=False)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return bp
