"""Who may use the workbench: trainers and supervisors, signed in with a cookie of its own.

The session cookie (`trainer_session`, path `/trainer`, HttpOnly, SameSite=Strict) has the
console's signed form (`bot.agent.accounts`): same expiry, sign-out recorded in the shop
database. A frontline agent is refused (403), anyone not signed in gets 401; every state change
must also come from the workbench's own page: same origin and the `X-Trainer` header, which a
cross-site form cannot send.
"""

from __future__ import annotations

from typing import Optional, Tuple

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.agent import accounts
from bot.agent.guard import error, in_db
from bot.agent.signin import StaffDoor
from bot.settings import Settings
from bot.web.origin import same_origin

COOKIE_NAME = "trainer_session"
COOKIE_PATH = "/trainer"
API_HEADER = "X-Trainer"
ROLES = ("trainer", "supervisor")
OVERRIDE_ROLES = ("supervisor",)


def may_use(staff: accounts.StaffSession) -> bool:
    """Trainers and supervisors use the workbench; frontline agents do not."""
    return staff.role in ROLES


def may_override(staff: accounts.StaffSession) -> bool:
    """Only a supervisor may deploy through a closed gate."""
    return staff.role in OVERRIDE_ROLES


async def staff_of(request: Request) -> Optional[accounts.StaffSession]:
    """The signed-in staff member of a request, or None."""
    value = request.cookies.get(COOKIE_NAME)
    if not value:
        return None
    config: Settings = request.app.ctx.settings
    return await in_db(accounts.staff_for_cookie, value, config.signing_key)


async def check(
    request: Request, changes: bool = False
) -> Tuple[Optional[accounts.StaffSession], Optional[HTTPResponse]]:
    """The trainer or supervisor making the request, or the refusal to answer with."""
    if changes and (not same_origin(request) or request.headers.get(API_HEADER) != "1"):
        return None, error("cross_site_refused", 403)
    staff = await staff_of(request)
    if staff is None:
        return None, error("sign_in_required", 401)
    if not may_use(staff):
        return None, error("role_not_allowed", 403)
    return staff, None


DOOR = StaffDoor(
    name="trainer",
    home=COOKIE_PATH,
    cookie_name=COOKIE_NAME,
    title="训练工作台",
    who="训练师和主管",
    may_enter=may_use,
)
