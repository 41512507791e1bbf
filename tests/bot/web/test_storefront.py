"""The storefront's routes, served by the real web app process on a seeded demo shop."""

import html
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.processes import free_port
from bot.settings import ROOT
from bot.web import auth, signouts
from shop.db import make_engine
from shop.db.models import Customer, Product, Sku
from shop.demo import seed
from shop.money import price_tag
from shop.signing import conversation_id_for, read_chat_signature

KEY = "storefront-test-key"
EVIL = "<script>alert(1)</script>"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_web(var_dir, rasa_port):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SHOP_VAR_DIR": str(var_dir),
        "SHOP_SIGNING_KEY": KEY,
        "WEB_PORT": str(port),
        "RASA_PORT": str(rasa_port),
        "RASA_TOKEN": "secret-token",
    }
    env.pop("SHOP_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return process, base


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("web-var")
    url = f"sqlite:///{var_dir / 'shop.db'}"
    seed.run(url, seed.DEMO_NOW, demo=True, accounts=False)
    engine = make_engine(url)
    with Session(engine) as session:  # markup in shop data must be shown as text
        product = session.get(Product, 1)
        product.name = f"油烟机{EVIL}"
        session.commit()
    # nothing listens on the Rasa port: history is unavailable
    process, base = start_web(var_dir, free_port())
    yield {"base": base, "engine": engine}
    process.terminate()
    process.wait(timeout=10)
    engine.dispose()


def get(web, path, cookie=None, headers=None):
    request = urllib.request.Request(web["base"] + path, headers=headers or {})
    if cookie:
        request.add_header("Cookie", f"{auth.COOKIE_NAME}={cookie}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def post(web, path, fields, headers=None, cookie=None):
    opener = urllib.request.build_opener(NoRedirect)
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(web["base"] + path, data=data, headers=headers or {})
    if cookie:
        request.add_header("Cookie", f"{auth.COOKIE_NAME}={cookie}")
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def chat_config(body):
    found = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', body)
    return json.loads(found.group(1))


def test_index_lists_products_with_prices_from_the_database(web):
    with Session(web["engine"]) as session:
        product = session.get(Product, 2)
    status, body, headers = get(web, "/")
    assert status == 200
    assert product.name in body
    assert price_tag(product.price_fen) in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_markup_in_shop_data_is_escaped(web):
    status, body, _ = get(web, "/products/1")
    assert status == 200
    assert EVIL not in body
    assert html.escape(EVIL, quote=False) in body or "&lt;script&gt;" in body


def test_category_filter_and_unknown_category(web):
    with Session(web["engine"]) as session:
        in_category = session.execute(select(Product).where(Product.category == "奶粉")).scalars()
        names = [p.name for p in in_category]
        outside = session.execute(select(Product).where(Product.category != "奶粉")).scalars()
        other = next(iter(outside)).name
    _, body, _ = get(web, "/?category=" + urllib.parse.quote("奶粉"))
    assert all(name in body for name in names)
    assert other not in body
    status, body, _ = get(web, "/?category=" + urllib.parse.quote("<b>不存在</b>"))
    assert status == 200 and "<b>不存在</b>" not in body


def test_product_page_shows_specs_skus_and_stock(web):
    with Session(web["engine"]) as session:
        product = session.get(Product, 50)
        skus = list(session.execute(select(Sku).where(Sku.product_id == 50)).scalars())
        spec_name = next(k for k in product.specs if not k.isascii())
    status, body, _ = get(web, "/products/50")
    assert status == 200
    assert product.name in body and spec_name in body
    for sku in skus:
        assert sku.code in body
        assert (f"{sku.stock} 件" if sku.stock else "缺货") in body
    assert get(web, "/products/99999")[0] == 404


def test_a_product_page_tells_the_widget_which_product_is_on_screen(web):
    assert chat_config(get(web, "/products/50")[1])["pageProductId"] == 50
    assert chat_config(get(web, "/")[1])["pageProductId"] is None


def test_anonymous_page_carries_no_identity(web):
    _, body, _ = get(web, "/")
    config = chat_config(body)
    assert config["customer"] is None
    assert config["rasaUrl"].startswith("http://127.0.0.1:")
    assert [p["id"] for p in config["personas"]] == [
        "default",
        "master",
        "lady",
        "spicy",
        "fresh",
        "crazy",
        "advisor",
    ]
    assert "customer_sig" not in body


def test_sign_in_issues_cookie_and_signed_chat_identity(web):
    status, headers = post(web, "/signin", {"customer_id": "2", "next": "/products/50"})
    assert status == 302 and headers["Location"] == "/products/50"
    cookie = re.search(rf"{auth.COOKIE_NAME}=([^;]+)", headers["Set-Cookie"]).group(1)
    assert "HttpOnly" in headers["Set-Cookie"]
    _, body, page_headers = get(web, "/", cookie)
    with Session(web["engine"]) as session:
        nickname = session.get(Customer, 2).nickname
    assert nickname in body
    config = chat_config(body)["customer"]
    assert config["sessionId"] == conversation_id_for(2, KEY)
    assert set(config["customData"]) == {"customer_id", "customer_sig"}
    signature = read_chat_signature(config["customData"], config["sessionId"], KEY)
    assert signature.customer_id == 2 and abs(signature.issued - time.time()) < 60
    assert "no-store" in page_headers["Cache-Control"]


def signed_in_cookie(web, customer_id):
    _, headers = post(web, "/signin", {"customer_id": str(customer_id)})
    return re.search(rf"{auth.COOKIE_NAME}=([^;]+)", headers["Set-Cookie"]).group(1)


def test_a_cookie_is_dead_on_the_server_after_signing_out(web):
    cookie = signed_in_cookie(web, 4)
    stolen = chat_config(get(web, "/", cookie)[1])["customer"]
    status, body, _ = get(web, "/chat/identity", cookie)
    assert status == 200 and json.loads(body)["sessionId"] == stolen["sessionId"]
    status, headers = post(web, "/signout", {"next": "/"}, cookie=cookie)
    assert status == 302
    # the same cookie, sent again (copied before, or a browser that kept it), signs nobody in
    assert chat_config(get(web, "/", cookie)[1])["customer"] is None
    assert get(web, "/chat/identity", cookie)[0] == 401
    assert get(web, f"/chat/history?session_id={stolen['sessionId']}", cookie)[0] == 403
    # the chat signature handed out before names the generation that is now over
    with Session(web["engine"]) as session:
        assert signouts.current_generation(session, 4) == 1
    signature = read_chat_signature(stolen["customData"], stolen["sessionId"], KEY)
    assert signature.generation == 0
    # signing in again works, with the new generation
    fresh = chat_config(get(web, "/", signed_in_cookie(web, 4))[1])["customer"]
    assert read_chat_signature(fresh["customData"], fresh["sessionId"], KEY).generation == 1


def test_sign_in_refuses_other_customers_foreign_sites_and_open_redirects(web):
    status, headers = post(web, "/signin", {"customer_id": "117"})
    assert status == 302 and "Set-Cookie" not in headers
    status, _ = post(web, "/signin", {"customer_id": "2"}, {"Origin": "http://evil.example"})
    assert status == 403
    status, headers = post(web, "/signin", {"customer_id": "2", "next": "//evil.example/"})
    assert headers["Location"] == "/"


def test_forged_cookie_is_anonymous(web):
    forged = auth.make_cookie(3, "not-the-key")
    _, body, _ = get(web, "/", forged)
    assert chat_config(body)["customer"] is None


def test_history_is_refused_for_conversations_the_browser_may_not_see(web):
    cookie = auth.make_cookie(2, KEY)
    other = conversation_id_for(3, KEY)
    assert get(web, f"/chat/history?session_id={other}", cookie)[0] == 403
    assert get(web, f"/chat/history?session_id={conversation_id_for(2, KEY)}")[0] == 403
    assert get(web, "/chat/history?session_id=me")[0] == 403
    assert get(web, "/chat/identity")[0] == 401
    # an anonymous conversation is read with its secret, never with its id alone
    secret = "3c" * 32
    anonymous = auth.anonymous_session_id(secret)
    assert get(web, f"/chat/history?session_id={anonymous}")[0] == 403
    with_secret = {"X-Chat-Secret": secret}
    assert get(web, "/chat/history", headers=with_secret)[0] == 502  # allowed; Rasa is down
    assert get(web, "/chat/history", headers={"X-Chat-Secret": "3d" * 32})[0] == 502
    assert (
        get(web, f"/chat/history?session_id={anonymous}", headers={"X-Chat-Secret": "3d" * 32})[0]
        == 403
    )
    # allowed, but Rasa is not running in this test: a clear 502, never a crash
    status, body, _ = get(web, f"/chat/history?session_id={conversation_id_for(2, KEY)}", cookie)
    assert status == 502 and "secret-token" not in body


def test_sign_out_clears_the_cookie(web):
    status, headers = post(web, "/signout", {"next": "/"})
    assert status == 302
    assert re.search(rf"{auth.COOKIE_NAME}=;|Max-Age=0", headers["Set-Cookie"])


def test_widget_assets_are_served(web):
    for path in ("/static/widget.js", "/static/widget.css", "/static/vendor/socket.io.min.js"):
        status, body, _ = get(web, path)
        assert status == 200 and body
    _, js, _ = get(web, "/static/widget.js")
    assert "innerHTML" not in js


def test_an_unreadable_shop_database_gets_a_clear_page(tmp_path):
    process, base = start_web(tmp_path, free_port())  # no shop.db tables here
    try:
        status, body, _ = get({"base": base}, "/")
        assert status == 503 and "商店暂时无法访问" in body
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_unreadable_shop_database_gets_a_clear_answer_in_the_console(tmp_path):
    process, base = start_web(tmp_path, free_port())  # no shop.db tables here
    try:
        form = urllib.parse.urlencode({"username": "agent", "password": "agent-demo"}).encode()
        request = urllib.request.Request(f"{base}/agent/signin", data=form, method="POST")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert answer.value.code == 503
        assert json.loads(answer.value.read()) == {"error": "shop_unavailable"}
    finally:
        process.terminate()
        process.wait(timeout=10)
