"""Staff sign-in and sign-out forms, one implementation for every staff area.

The agent console (`/agent`) and the trainer workbench (`/trainer`) are two doors into the same
staff accounts: each has its own form, session cookie (scoped to its path) and rule of who may
enter, while the name's one form (`shop.text.inputs.staff_username`), the password check, the
sign-in limits (`bot.agent.throttle`, one count for both doors) and the sign-out revocation are
shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.agent import accounts, throttle
from bot.agent.guard import error, in_db, secure
from bot.settings import Settings
from bot.web.origin import same_origin
from shop.text import inputs

Render = Callable[..., HTTPResponse]
MAX_FORM_FIELD_CHARS = 256
FORM_TEMPLATE = "staff_signin.html"


@dataclass(frozen=True)
class StaffDoor:
    """One staff area: its home page (also the cookie's path), cookie and who may enter.

    `name` prefixes the form's element ids, `title` and `who` (the roles, in words) are shown.
    """

    name: str
    home: str
    cookie_name: str
    title: str
    who: str
    may_enter: Callable[[accounts.StaffSession], bool]

    def form(self, render: Render, status: int = 200, **context: object) -> HTTPResponse:
        """The door's sign-in form (with a refusal or a lock message when the context says so)."""
        return render(FORM_TEMPLATE, status=status, door=self, **context)

    def set_cookie(self, response: HTTPResponse, value: str, https: bool) -> None:
        """Puts the session cookie on a response; an empty value signs out."""
        response.cookies[self.cookie_name] = value
        cookie = response.cookies[self.cookie_name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = self.home
        cookie["max-age"] = accounts.MAX_AGE_SECONDS if value else 0
        if https:
            cookie["secure"] = True


AGENT_DOOR = StaffDoor(
    name="agent",
    home="/agent",
    cookie_name=accounts.COOKIE_NAME,
    title="客服工作台",
    who="客服和主管",
    may_enter=lambda staff: staff.may_use_console,
)


async def sign_in(
    request: Request, door: StaffDoor, attempts: throttle.SignInThrottle, render: Render
) -> HTTPResponse:
    """Answers the door's sign-in form: the home page with a session cookie, or the form again.

    Args:
        request: The form post (`username`, `password`).
        door: The staff area signed into.
        attempts: The sign-in limits (locked names and addresses get 429 with Retry-After).
        render: Renders a template with a status and context.

    Returns:
        A redirect home with the cookie, or the form with 401 (wrong), 403 (role or another
        site's form) or 429 (locked).
    """
    if not same_origin(request):
        return error("cross_site_refused", 403)
    # one form of the name for the lock and the password check (ａｇｅｎｔ is agent)
    username = inputs.staff_username(str(request.form.get("username") or "")[:MAX_FORM_FIELD_CHARS])
    keys = throttle.keys_for(username, request.remote_addr or request.ip)
    wait = attempts.retry_after(keys)
    if wait:
        page = door.form(render, status=429, locked_minutes=-(-wait // 60))
        page.headers["Retry-After"] = str(wait)
        return page
    staff = await in_db(accounts.sign_in, username, str(request.form.get("password") or ""))
    if staff is None:
        attempts.failed(keys)
        return door.form(render, status=401, failed=True, username=username)
    attempts.succeeded(username)
    if not door.may_enter(staff):
        return door.form(render, status=403, refused_role=True)
    config: Settings = request.app.ctx.settings
    response = redirect(door.home)
    door.set_cookie(
        response,
        accounts.make_cookie(staff.agent_id, config.signing_key),
        request.scheme == "https",
    )
    return secure(response)


async def sign_out(request: Request, door: StaffDoor) -> HTTPResponse:
    """Revokes the session on the server and clears the door's cookie."""
    if not same_origin(request):
        return error("cross_site_refused", 403)
    config: Settings = request.app.ctx.settings
    await in_db(accounts.sign_out, request.cookies.get(door.cookie_name), config.signing_key)
    response = redirect(door.home)
    door.set_cookie(response, "", False)
    return secure(response)
