"""The refund review page /agent/refunds in the real web app: sign-in, form tokens, decisions.

A refund under review and a burst of wrong phone tails are put into the demo shop first; an
agent approves or reverses through the page's form or the JSON API, and the shop database
records who decided and when.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from bot.processes import free_port
from bot.settings import ROOT
from shop.db import make_engine, session_scope
from shop.db.models import Order, ReturnRequest, Sku, utcnow
from shop.demo import seed
from shop.policy import verification as verification_policy
from shop.repository import aftersale as aftersale_repo
from shop.repository import verification
from tests.bot.agent.test_console import call, cookie_pair, sign_in

KEY = "refund-review-test-key"
API = {"X-Agent-Console": "1"}


def put_refunds_and_guesses(url):
    """Two delivered orders' returns under review (¥ above the limit) and a guessed order."""
    engine = make_engine(url)
    ids = []
    with session_scope(engine) as s:
        orders = s.execute(
            select(Order).where(Order.state == "delivered", Order.payable_fen > 60000).limit(2)
        ).scalars()
        now = utcnow()
        for n, order in enumerate(orders):
            request = aftersale_repo.create_return(
                s, order, reason="不想要了", now=now, refund_fen=order.payable_fen
            )
            aftersale_repo.record_return_shipment(s, request, f"SF90000000000{n}", now)
            assert request.refund_state == "under_review"
            ids.append(request.id)
        exchange = put_held_exchange(s, now, exclude=ids)
        target = s.execute(select(Order.order_number).limit(1)).scalar_one()
        for n in range(verification_policy.ORDER_FAILURES_ALLOWED):
            client = verification.Client(conversation=f"guesser-{n}")
            verification.order_by_phone_tail(s, target, f"99{n:02d}", client, now)
    engine.dispose()
    return ids, target, exchange


def put_held_exchange(s, now, exclude):
    """An exchange whose return parcel has a number of no known format: held, its item reserved."""
    orders = select(Order).where(
        Order.state == "delivered", Order.id.notin_(exclude_orders(s, exclude))
    )
    for order in s.execute(orders).scalars():
        item = order.items[0]
        other = (
            s.execute(
                select(Sku).where(
                    Sku.product_id == s.get(Sku, item.sku_id).product_id,
                    Sku.id != item.sku_id,
                    Sku.stock >= item.quantity,
                )
            )
            .scalars()
            .first()
        )
        if other is None:
            continue
        request = aftersale_repo.create_return(
            s,
            order,
            reason="换个颜色",
            now=now,
            kind="exchange",
            order_item=item,
            exchange_sku_id=other.id,
        )
        aftersale_repo.record_return_shipment(s, request, "SF1111222233", now)
        assert request.refund_state == "under_review"
        return {"id": request.id, "sku": other.id, "quantity": item.quantity}
    raise AssertionError("the demo shop has no delivered order with another variant in stock")


def exclude_orders(s, request_ids):
    return [s.get(ReturnRequest, request_id).order_id for request_id in request_ids]


def stock_of(web, sku_id):
    engine = make_engine(web["url"])
    with session_scope(engine) as s:
        stock = s.get(Sku, sku_id).stock
    engine.dispose()
    return stock


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("refund-review-var")
    url = f"sqlite:///{var_dir / 'shop.db'}"
    seed.run(url, seed.DEMO_NOW, demo=True, accounts=True)
    ids, guessed, exchange = put_refunds_and_guesses(url)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SHOP_VAR_DIR": str(var_dir),
        "SHOP_SIGNING_KEY": KEY,
        "WEB_PORT": str(port),
        "RASA_PORT": str(free_port()),
        "RASA_TOKEN": "unused",
    }
    env.pop("SHOP_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield {"base": base, "url": url, "ids": ids, "guessed": guessed, "exchange": exchange}
    process.terminate()
    process.wait(timeout=10)


class Forms(HTMLParser):
    """The page's forms: action and hidden token."""

    def __init__(self):
        super().__init__()
        self.forms, self._action = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._action = attrs.get("action")
        if tag == "input" and attrs.get("name") == "token" and self._action:
            self.forms[self._action] = attrs.get("value")


def state_of(web, request_id):
    engine = make_engine(web["url"])
    with session_scope(engine) as s:
        r = s.get(ReturnRequest, request_id)
        found = (r.status, r.refund_state, r.refund_state_by, r.refunded_at is not None)
    engine.dispose()
    return found


def agent(web):
    return cookie_pair(sign_in(web, "agent", "agent-demo")[1])


def test_the_page_needs_a_signed_in_agent(web):
    status, headers, _ = call(web["base"], "/agent/refunds")
    assert status == 302 and headers["Location"] == "/agent"
    for path in ("/agent/api/refunds", "/agent/api/verification-alerts"):
        assert call(web["base"], path)[0] == 401
    path = f"/agent/refunds/{web['ids'][0]}/approve"
    assert call(web["base"], path, "POST", form={"token": "x"})[0] == 401


def test_the_page_lists_the_refunds_under_review_and_the_guessing_alert(web):
    status, headers, page = call(web["base"], "/agent/refunds", cookie=agent(web))
    assert status == 200 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for request_id in web["ids"]:
        assert f'data-testid="refund-{request_id}" data-state="under_review"' in page
    assert "金额超过自动退款上限" in page and "待核对" in page
    assert web["guessed"] in page and "同一订单" in page
    status, _, body = call(web["base"], "/agent/api/verification-alerts", cookie=agent(web))
    [alert] = json.loads(body)["alerts"]
    assert (alert["scope"], alert["subject"]) == ("order", web["guessed"])
    assert alert["failures"] == verification_policy.ORDER_FAILURES_ALLOWED


def test_a_form_decision_needs_the_pages_token_and_origin(web):
    cookie = agent(web)
    request_id = web["ids"][0]
    path = f"/agent/refunds/{request_id}/approve"
    assert call(web["base"], path, "POST", cookie, form={"token": "0" * 64})[0] == 403
    _, _, page = call(web["base"], "/agent/refunds", cookie=cookie)
    forms = Forms()
    forms.feed(page)
    token = forms.forms[path]
    evil = {"Origin": "http://evil.example"}
    assert call(web["base"], path, "POST", cookie, form={"token": token}, headers=evil)[0] == 403
    assert state_of(web, request_id) == ("return_shipped", "under_review", "bot", False)
    status, headers, _ = call(web["base"], path, "POST", cookie, form={"token": token})
    assert status == 303 and headers["Location"] == "/agent/refunds"
    assert state_of(web, request_id) == ("refunded", "issued", "agent", True)


def test_an_agent_reverses_a_refund_through_the_api(web):
    cookie = agent(web)
    request_id = web["ids"][1]
    path = f"/agent/refunds/{request_id}/reverse"
    assert call(web["base"], path, "POST", cookie, body={})[0] == 403  # neither token nor header
    status, _, body = call(web["base"], path, "POST", cookie, body={}, headers=API)
    assert status == 200 and json.loads(body)["decision"] == "reverse"
    assert state_of(web, request_id) == ("rejected", "reversed", "agent", False)
    status, _, body = call(web["base"], path, "POST", cookie, body={}, headers=API)
    assert status == 409 and json.loads(body)["error"] == "refund_not_changeable"
    status, _, body = call(
        web["base"], "/agent/refunds/999999/reverse", "POST", cookie, {}, headers=API
    )
    assert status == 404
    _, _, body = call(web["base"], "/agent/api/refunds", cookie=cookie)
    states = {r["request_id"]: r["state"] for r in json.loads(body)["refunds"]}
    assert states[request_id] == "reversed"


def test_a_held_exchange_is_listed_as_an_exchange_and_declining_it_puts_its_item_back(web):
    cookie = agent(web)
    held = web["exchange"]
    _, _, page = call(web["base"], "/agent/refunds", cookie=cookie)
    start = page.index(f'data-testid="refund-{held["id"]}"')
    row = page[start : page.index("</tr>", start)]
    assert 'data-kind="exchange"' in row and "换货" in row and "不予换货" in row
    assert "¥" not in row and "已退款" not in row
    _, _, body = call(web["base"], "/agent/api/refunds", cookie=cookie)
    [listed] = [r for r in json.loads(body)["refunds"] if r["request_id"] == held["id"]]
    assert (listed["kind"], listed["kind_label"], listed["reversible"]) == (
        "exchange",
        "换货",
        True,
    )

    reserved = stock_of(web, held["sku"])
    path = f"/agent/refunds/{held['id']}/reverse"
    status, _, _ = call(web["base"], path, "POST", cookie, body={}, headers=API)
    assert status == 200
    assert state_of(web, held["id"]) == ("rejected", "reversed", "agent", False)
    assert stock_of(web, held["sku"]) == reserved + held["quantity"]
    assert call(web["base"], path, "POST", cookie, body={}, headers=API)[0] == 409
    assert stock_of(web, held["sku"]) == reserved + held["quantity"]  # released once
    _, _, page = call(web["base"], "/agent/refunds", cookie=cookie)
    start = page.index(f'data-testid="refund-{held["id"]}"')
    row = page[start : page.index("</tr>", start)]
    assert "不予换货" in row and "<form" not in row
