"""The workbench's routes in the real web app process: who may use them, CSRF, labelling from
the inbox, and deploy, gate override and rollback against a stand-in of Rasa's model endpoint.

The stand-in answers `/status` with the loaded model and `PUT /model` as Rasa does: 204 when the
file loads (here: exists and starts with "good"), an error otherwise, keeping the old model.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.processes import free_port
from bot.settings import ROOT
from bot.trainer import deploy
from bot.trainer.store import engine_for
from bot.web import auth as customer_auth
from shop.demo import seed
from tests.bot.trainer import trainer_routes
from tests.bot.trainer.test_inbox import SCHEMA, T0, user
from tests.bot.trainer.workspace_copy import copy_workspace

KEY = "trainer-test-key"
TOKEN = "rasa-test-token"
API = {"X-Trainer": "1"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(base, path, method="GET", cookie=None, body=None, form=None, headers=None):
    """One request without following redirects: (status, headers, body text)."""
    data, sent = None, dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        sent["Cookie"] = cookie
    request = urllib.request.Request(base + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def cookie_pair(set_cookie):
    return set_cookie.split(";", 1)[0]


class FakeRasa(BaseHTTPRequestHandler):
    loaded = "serving-a.tar.gz"
    loads = []

    def _answer(self, status, body=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if body is not None:
            self.wfile.write(json.dumps(body).encode())

    def do_GET(self):  # noqa: N802 - http.server's name
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if query.get("token") != [TOKEN]:
            return self._answer(401, {})
        self._answer(200, {"model_file": FakeRasa.loaded, "model_id": "x"})

    def do_PUT(self):  # noqa: N802
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if query.get("token") != [TOKEN]:
            return self._answer(401, {})
        path = body.get("model_file") or ""
        FakeRasa.loads.append(path)
        if os.path.exists(path) and open(path, "rb").read().startswith(b"good"):
            FakeRasa.loaded = os.path.basename(path)
            return self._answer(204)
        self._answer(500, {"reason": "LoadingError"})

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("trainer-var")
    workspace = copy_workspace(tmp_path_factory.mktemp("trainer-ws"))
    models = tmp_path_factory.mktemp("trainer-models")
    (models / "serving-a.tar.gz").write_bytes(b"good a")
    seed.run(f"sqlite:///{var_dir / 'shop.db'}", seed.DEMO_NOW, demo=True, accounts=True)
    tracker_db = var_dir / "tracker.db"
    with sqlite3.connect(tracker_db) as db:
        db.execute(SCHEMA)
        for sender, event in [
            (
                "c-1",
                user(
                    "这件羽绒服可以走顺丰不",
                    [("ask_free_shipping", 0.41), ("ask_delivery_time", 0.38)],
                    T0,
                ),
            ),
            ("c-2", user("亲在吗", [("greet", 0.99), ("thank", 0.001)], T0 + 1)),
            ("c-3", user("EXTERNAL_price_drop", [("EXTERNAL_price_drop", 1.0)], T0 + 2)),
        ]:
            db.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
                (sender, "user", event["timestamp"], json.dumps(event)),
            )
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SHOP_VAR_DIR": str(var_dir),
        "SHOP_SIGNING_KEY": KEY,
        "WEB_PORT": str(port),
        "RASA_PORT": str(rasa.server_address[1]),
        "RASA_TOKEN": TOKEN,
        "SHOP_MODELS_DIR": str(models),
        "SHOP_TRAINER_WORKSPACE": str(workspace),
        "SHOP_NOTICE_INTERVAL": "0",
    }
    env.pop("SHOP_DATABASE_URL", None)
    env.pop("SHOP_RASA_REPLICAS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield {"base": base, "var": var_dir, "workspace": workspace, "models": models}
    process.terminate()
    process.wait(timeout=10)
    rasa.shutdown()


def sign_in(web, username, password):
    status, headers, _ = call(
        web["base"], "/trainer/signin", "POST", form={"username": username, "password": password}
    )
    return status, headers.get("Set-Cookie") or ""


@pytest.fixture(scope="module")
def trainer(web):
    return cookie_pair(sign_in(web, "trainer", "trainer-demo")[1])


@pytest.fixture(scope="module")
def supervisor(web):
    return cookie_pair(sign_in(web, "supervisor", "supervisor-demo")[1])


def get(web, path, cookie):
    status, _, body = call(web["base"], path, cookie=cookie)
    return status, json.loads(body) if body.startswith("{") else body


def post(web, path, cookie, body=None, headers=API):
    status, _, answer = call(web["base"], path, "POST", cookie, body or {}, headers=headers)
    return status, json.loads(answer) if answer.startswith("{") else answer


def test_a_trainer_signs_in_with_a_strict_cookie_of_the_workbench(web):
    status, cookie = sign_in(web, "trainer", "trainer-demo")
    lowered = cookie.lower()
    assert status == 302 and lowered.startswith("trainer_session=")
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/trainer" in lowered
    status, me = get(web, "/trainer/api/me", cookie_pair(cookie))
    assert status == 200 and me["role"] == "trainer" and not me["may_override"]
    assert "ask_free_shipping" in me["intents"] and "nlu_fallback" not in me["intents"]
    status, _, page = call(web["base"], "/trainer", cookie=cookie_pair(cookie))
    assert status == 200 and "收件箱" in page


def test_agents_and_customers_are_refused_everywhere(web):
    status, cookie = sign_in(web, "agent", "agent-demo")
    assert status == 403 and not cookie
    _, agent_cookie = call(
        web["base"], "/agent/signin", "POST", form={"username": "agent", "password": "agent-demo"}
    )[:2]
    agent_value = agent_cookie.get("Set-Cookie").split(";")[0].split("=", 1)[1]
    as_agent = f"trainer_session={agent_value}"  # the console's session is no workbench session
    customer = f"{customer_auth.COOKIE_NAME}={customer_auth.make_cookie(2, KEY)}"
    for cookie, expected in ((as_agent, 403), (customer, 401), (None, 401)):
        for path in (
            "/trainer/api/me",
            "/trainer/api/inbox",
            "/trainer/api/models",
            "/trainer/api/audit",
        ):
            assert get(web, path, cookie)[0] == expected, (path, cookie)
        for path in (
            "/trainer/api/messages/1/label",
            "/trainer/api/training",
            "/trainer/api/dictionary",
        ):
            assert post(web, path, cookie, {"intent": "greet"})[0] == expected, (path, cookie)
    status, _, page = call(web["base"], "/trainer", cookie=as_agent)
    assert status == 403 and "没有使用训练工作台的权限" in page and "收件箱" not in page


def test_the_console_and_the_workbench_count_sign_in_failures_together(web):
    """A name gets five tries in all, not five at each form (look-alikes are the same name)."""

    def attempt(path, username):
        form = {"username": username, "password": "wrong"}
        status, headers, _ = call(web["base"], path, "POST", form=form)
        return status, headers.get("Retry-After")

    for _ in range(3):
        assert attempt("/agent/signin", "night-owl")[0] == 401
    for _ in range(2):
        assert attempt("/trainer/signin", "ＮＩＧＨＴ-ＯＷＬ")[0] == 401
    for path in ("/trainer/signin", "/agent/signin"):
        status, wait = attempt(path, "night-owl")
        assert status == 429 and 0 < int(wait) <= 900, path
    assert attempt("/trainer/signin", "early-bird")[0] == 401  # another name is not locked


def test_changes_need_the_pages_header_and_origin(web, trainer):
    path = "/trainer/api/dictionary"
    assert post(web, path, trainer, {"word": "羽绒马甲"}, headers={})[0] == 403
    evil = {**API, "Origin": "http://evil.example"}
    assert post(web, path, trainer, {"word": "羽绒马甲"}, headers=evil)[0] == 403
    assert "羽绒马甲" not in (web["workspace"] / "data/dicts/shop.txt").read_text("utf-8")
    status, _, _ = call(
        web["base"],
        "/trainer/signin",
        "POST",
        form={"username": "trainer", "password": "trainer-demo"},
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403


def test_a_trainer_relabels_an_inbox_message_into_its_topic_file(web, trainer):
    status, listing = get(web, "/trainer/api/inbox", trainer)
    assert status == 200 and listing["total"] == 2
    first = listing["entries"][0]
    assert first["text"] == "这件羽绒服可以走顺丰不" and first["priority"] == 2  # low margin first
    status, shown = get(web, f"/trainer/api/messages/{first['id']}/tokens", trainer)
    assert "".join(t["text"] for t in shown["tokens"]) == first["text"]
    status, refused = post(
        web,
        f"/trainer/api/messages/{first['id']}/label",
        trainer,
        {"intent": "ask_delivery_time", "entities": [{"start": 2, "end": 3, "entity": "product"}]},
    )
    assert status == 409 and refused["error"] == "bad_span" and refused["token"] == "羽绒服"
    status, written = post(
        web,
        f"/trainer/api/messages/{first['id']}/label",
        trainer,
        {"intent": "ask_delivery_time", "entities": [{"start": 2, "end": 5, "entity": "product"}]},
    )
    assert status == 200 and written["file"] == "orders.yml"
    assert written["example"] == "这件[羽绒服](product)可以走顺丰不"
    orders = (web["workspace"] / "data/nlu/orders.yml").read_text("utf-8")
    assert "    - 这件[羽绒服](product)可以走顺丰不\n" in orders
    assert (ROOT / "data/nlu/orders.yml").read_text("utf-8").count("可以走顺丰不") == 0
    status, again = post(
        web, f"/trainer/api/messages/{first['id']}/label", trainer, {"intent": "ask_free_shipping"}
    )
    assert (
        status == 409
        and again["error"] == "contradiction"
        and again["intent"] == "ask_delivery_time"
    )
    assert [e["text"] for e in get(web, "/trainer/api/inbox", trainer)[1]["entries"]] == ["亲在吗"]
    entries = get(web, "/trainer/api/audit", trainer)[1]["entries"]
    assert entries[0]["who"] == "trainer" and entries[0]["action"] == "label"
    assert entries[0]["before"]["model"] == "ask_free_shipping"
    assert entries[0]["after"]["intent"] == "ask_delivery_time"


def test_a_conversation_is_saved_as_a_test_story_with_the_trainers_label(web, trainer):
    saved = web["workspace"] / "tests" / "stories" / "trainer_saved.yml"
    path = "/trainer/api/conversations/c-1/story"
    assert post(web, path, trainer, headers={})[0] == 403
    assert post(web, path, trainer, headers={**API, "Origin": "http://evil.example"})[0] == 403
    assert not saved.exists()
    status, story = post(web, path, trainer)
    assert status == 200 and story["file"] == "tests/stories/trainer_saved.yml"
    assert story["story"].startswith("conversation c-1 saved by trainer ")
    assert story["steps"] == [{"intent": "ask_delivery_time", "user": "这件羽绒服可以走顺丰不"}]
    written = saved.read_text("utf-8")
    assert written.startswith('version: "3.1"\nstories:\n- story: conversation c-1 saved by')
    assert "  - intent: ask_delivery_time\n" in written
    assert not (ROOT / "tests" / "stories" / "trainer_saved.yml").exists()
    status, again = post(web, path, trainer)
    assert status == 409 and again["error"] == "already_saved"
    status, refused = post(web, "/trainer/api/conversations/c-3/story", trainer)
    assert status == 409 and refused["error"] == "no_customer_message"
    status, missing = post(web, "/trainer/api/conversations/nobody/story", trainer)
    assert status == 404 and missing["error"] == "no_such_conversation"
    assert saved.read_text("utf-8") == written
    entry = get(web, "/trainer/api/audit", trainer)[1]["entries"][0]
    assert (entry["who"], entry["action"], entry["subject"]) == (
        "trainer",
        "save_story",
        "conversation:c-1",
    )
    assert entry["after"]["story"] == story["story"] and entry["after"]["steps"] == story["steps"]


def register(web, name, content, gate_passed, reasons=()):
    path = web["var"] / "trainer" / "candidates" / name
    path.write_bytes(content)
    engine = engine_for(f"sqlite:///{web['var'] / 'trainer' / 'trainer.db'}")
    deploy.register(
        engine,
        name,
        path,
        "abc123",
        "trainer",
        {"heldout": {"new": 0.9, "serving": 0.95}},
        {"passed": gate_passed, "reasons": list(reasons)},
    )


def deployed(web, cookie, path, body=None):
    """Starts a deployment and waits until it ends: (start status, final deployment state)."""
    status, started = post(web, path, cookie, body)
    if status != 202:
        return status, started
    assert started["deployment"]["state"] == "running"
    for _ in range(200):
        deployment = get(web, "/trainer/api/models", cookie)[1]["deployment"]
        if deployment["state"] != "running":
            return status, deployment
        time.sleep(0.05)
    raise AssertionError("the deployment did not end")


def test_deploy_gate_override_failed_load_and_rollback(web, trainer, supervisor):
    reasons = [{"code": "macro_f1_lower", "new": 0.9, "serving": 0.95}]
    register(web, "candidate-b.tar.gz", b"good b", False, reasons)
    path = "/trainer/api/models/candidate-b.tar.gz/deploy"
    status, refused = post(web, path, trainer)
    assert status == 409 and refused["error"] == "gate_closed" and refused["reasons"] == reasons
    status, refused = post(web, path, trainer, {"override_reason": "大促前必须上线"})
    assert status == 403 and refused["error"] == "override_not_allowed"
    assert FakeRasa.loaded == "serving-a.tar.gz" and FakeRasa.loads == []
    status, done = deployed(web, supervisor, path, {"override_reason": "大促前必须上线"})
    assert status == 202 and done["state"] == "succeeded" and done["by"] == "supervisor"
    assert done["model"] == "candidate-b.tar.gz" and done["previous"] == "serving-a.tar.gz"
    assert FakeRasa.loaded == "candidate-b.tar.gz"
    installed = web["models"] / "candidate-b.tar.gz"
    assert installed.read_bytes() == b"good b"
    assert max(web["models"].glob("*.tar.gz"), key=lambda p: p.stat().st_mtime) == installed

    register(web, "candidate-c.tar.gz", b"broken", True)
    status, failed = deployed(web, trainer, "/trainer/api/models/candidate-c.tar.gz/deploy")
    assert status == 202 and failed["state"] == "failed" and failed["error"] == "load_failed"
    assert FakeRasa.loaded == "candidate-b.tar.gz"  # the old model keeps serving
    assert not (web["models"] / "candidate-c.tar.gz").exists()

    status, back = deployed(web, trainer, "/trainer/api/models/serving-a.tar.gz/rollback")
    assert status == 202 and back["state"] == "succeeded" and back["model"] == "serving-a.tar.gz"
    assert FakeRasa.loaded == "serving-a.tar.gz"
    newest = max(web["models"].glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert newest.name == "serving-a.tar.gz"  # a restart serves it too
    models = {m["name"]: m for m in get(web, "/trainer/api/models", trainer)[1]["models"]}
    assert (
        models["serving-a.tar.gz"]["serving_now"]
        and models["serving-a.tar.gz"]["deployed_by"] == "trainer"
    )
    assert models["candidate-b.tar.gz"]["status"] == "retired"
    assert models["candidate-b.tar.gz"]["deployed_by"] == "supervisor"
    assert models["candidate-c.tar.gz"]["status"] == "candidate"
    log = get(web, "/trainer/api/audit", trainer)[1]["entries"]
    actions = [(e["action"], e["who"], e["reason"]) for e in log[:2]]
    assert actions == [
        ("rollback", "trainer", ""),
        ("gate_override", "supervisor", "大促前必须上线"),
    ]
    assert log[1]["before"] == {"serving": "serving-a.tar.gz"}
    assert post(web, "/trainer/api/models/..%2Fshop.db/rollback", trainer)[0] == 404


def test_every_trainer_route_the_app_registers_is_listed_for_the_browser_test(
    monkeypatch, tmp_path
):
    from sanic import Sanic

    from bot.settings import Settings
    from bot.web.app import create_app

    monkeypatch.setattr(Sanic, "test_mode", True)
    settings = Settings(
        "127.0.0.1",
        1,
        2,
        3,
        "t",
        "k",
        tmp_path,
        tmp_path,
        ROOT / "endpoints.yml",
        ROOT / "credentials.yml",
        notice_interval=0,
    )
    app = create_app(settings, name="trainer_routes_test")
    registered = set()
    for route in app.router.routes:
        path = "/" + route.path.strip("/")
        path = path.replace("<conversation_id:str>", "<conversation_id>").replace(
            "<name:str>", "<name>"
        )
        if path == "/trainer" or path.startswith("/trainer/"):
            registered |= {(m, path) for m in route.methods if m not in ("HEAD", "OPTIONS")}
    listed = {(method, path) for method, path, _ in trainer_routes.GUARDED}
    assert registered == trainer_routes.PUBLIC | listed


def test_the_data_checks_run_on_the_workspace_and_report_problems(web, trainer):
    status, checked = post(web, "/trainer/api/check", trainer)
    assert status == 200 and checked == {"ok": True, "problems": []}
    near = web["workspace"] / "data" / "nlu" / "zz_near.yml"
    near.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 在吗？？\n', encoding="utf-8"
    )
    try:
        status, checked = post(web, "/trainer/api/check", trainer)
    finally:
        near.unlink()
    assert status == 200 and not checked["ok"]
    assert any("在吗？？" in problem for problem in checked["problems"])  # basics.yml has 在吗
