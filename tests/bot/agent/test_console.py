"""The console's routes in the real web app process: sign-in, cookies, refusals, queue, modes.

Rasa is stood in for by a small HTTP server that checks the token and appends the posted events
to a tracker store in Rasa's own SQL schema, which the console reads back.
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
from bot.web import auth as customer_auth
from shop.demo import seed
from shop.endpoint_secret import ENV as ENDPOINT_SECRET_ENV
from shop.endpoint_secret import HEADER as ENDPOINT_SECRET_HEADER
from shop.signing import conversation_id_for, proven_metadata

KEY = "console-test-key"
TOKEN = "rasa-test-token"
SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)


def store(db, sender, events):
    with sqlite3.connect(db) as connection:
        for event in events:
            event.setdefault("timestamp", time.time())
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                (sender, event["event"], event["timestamp"], json.dumps(event)),
            )


class FakeRasa(BaseHTTPRequestHandler):
    db = None
    posted = []

    def do_POST(self):  # noqa: N802 - http.server's name
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if query.get("token") != [TOKEN]:
            self.send_response(401)
            self.end_headers()
            return
        sender = urllib.parse.unquote(url.path.split("/")[2])
        FakeRasa.posted.append((sender, body, query))
        store(FakeRasa.db, sender, [dict(e) for e in body])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(base, path, method="GET", cookie=None, body=None, form=None, headers=None):
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
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


PUSH_SECRET = "push-test-secret"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("console-var")
    seed.run(f"sqlite:///{var_dir / 'shop.db'}", seed.DEMO_NOW, demo=True, accounts=True)
    tracker_db = var_dir / "tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        connection.execute(SCHEMA)
    FakeRasa.db, FakeRasa.posted = tracker_db, []
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
        ENDPOINT_SECRET_ENV: PUSH_SECRET,
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
    yield {"base": base, "db": tracker_db}
    process.terminate()
    process.wait(timeout=10)
    rasa.shutdown()


def sign_in(console, username, password):
    status, headers, _ = call(
        console["base"], "/agent/signin", "POST", form={"username": username, "password": password}
    )
    cookie = headers.get("Set-Cookie") or ""
    return status, cookie


def cookie_pair(set_cookie):
    return set_cookie.split(";", 1)[0]


API = {"X-Agent-Console": "1"}


def test_sign_in_sets_a_strict_http_only_cookie_of_its_own(console):
    status, cookie = sign_in(console, "agent", "agent-demo")
    assert status == 302
    lowered = cookie.lower()
    assert lowered.startswith("agent_session=")
    assert "httponly" in lowered and "samesite=strict" in lowered
    assert "path=/agent" in lowered and "max-age=28800" in lowered
    status, _, body = call(console["base"], "/agent/api/me", cookie=cookie_pair(cookie))
    assert status == 200 and json.loads(body)["role"] == "agent"
    status, _, page = call(console["base"], "/agent", cookie=cookie_pair(cookie))
    assert status == 200 and "待人工接入" in page


def test_wrong_password_and_trainer_are_refused(console):
    status, cookie = sign_in(console, "agent", "wrong")
    assert status == 401 and not cookie
    status, cookie = sign_in(console, "trainer", "trainer-demo")
    assert status == 403 and not cookie


def test_unauthenticated_and_customers_get_nothing(console):
    customer = f"{customer_auth.COOKIE_NAME}={customer_auth.make_cookie(2, KEY)}"
    forged = "agent_session=" + customer_auth.make_cookie(2, KEY)
    for cookie in (None, customer, forged):
        for path in ("/agent/api/me", "/agent/api/conversations", "/agent/api/conversations/a-1"):
            status, _, _ = call(console["base"], path, cookie=cookie)
            assert status == 401, (path, cookie)
        status, _, _ = call(
            console["base"],
            "/agent/api/conversations/a-1/mode",
            "POST",
            cookie,
            {"mode": "human"},
            headers=API,
        )
        assert status == 401
    status, _, page = call(console["base"], "/agent", cookie=customer)
    assert "agent-signin" in page and "待人工接入" not in page


def test_cross_site_posts_are_refused(console):
    _, cookie = sign_in(console, "agent", "agent-demo")
    pair = cookie_pair(cookie)
    path = "/agent/api/conversations/a-1/mode"
    evil = {**API, "Origin": "http://evil.example"}
    assert call(console["base"], path, "POST", pair, {"mode": "human"}, headers=evil)[0] == 403
    assert call(console["base"], path, "POST", pair, {"mode": "human"})[0] == 403  # no header
    status, _, _ = call(
        console["base"],
        "/agent/signin",
        "POST",
        form={"username": "agent", "password": "agent-demo"},
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403


def test_queue_take_over_message_and_hand_back(console):
    customer = conversation_id_for(2, KEY)
    now = time.time()
    meta = proven_metadata(2, customer, KEY, now - 200)
    store(
        console["db"],
        customer,
        [
            {"event": "session_started", "timestamp": now - 120},
            {
                "event": "user",
                "timestamp": now - 100,
                "text": "<b>转人工</b>",
                "metadata": meta,
                "parse_data": {
                    "intent": {"name": "request_human", "confidence": 0.97},
                    "entities": [],
                },
            },
            {
                "event": "slot",
                "timestamp": now - 99,
                "name": "handoff_reason",
                "value": "customer_request",
            },
        ],
    )
    store(
        console["db"],
        "a-" + "5" * 32,
        [
            {
                "event": "user",
                "timestamp": now - 50,
                "text": "有货吗",
                "metadata": {},
                "parse_data": {"intent": {"name": "ask_stock", "confidence": 0.9}, "entities": []},
            },
        ],
    )
    notified = conversation_id_for(3, KEY)  # a proactive notice the customer has not answered
    store(
        console["db"],
        notified,
        [
            {
                "event": "user",
                "timestamp": now - 30,
                "text": "EXTERNAL: EXTERNAL_follow_up_visit",
                "parse_data": {"intent": {"name": "EXTERNAL_follow_up_visit", "confidence": 1.0}},
            },
        ],
    )
    _, cookie = sign_in(console, "agent", "agent-demo")
    pair = cookie_pair(cookie)
    status, _, body = call(console["base"], "/agent/api/conversations", cookie=pair)
    listing = json.loads(body)
    assert notified not in {row["conversation_id"] for row in listing["active"]}
    status, _, body = call(console["base"], f"/agent/api/conversations/{notified}", cookie=pair)
    assert json.loads(body)["profile"]["customer_id"] == 3  # known by its conversation id
    assert status == 200
    [entry] = [row for row in listing["queue"] if row["conversation_id"] == customer]
    assert entry["reasons"] == ["customer_request"] and entry["waiting_seconds"] >= 99
    assert entry["customer_id"] == 2 and entry["customer_name"]
    assert "a-" + "5" * 32 not in [row["conversation_id"] for row in listing["queue"]]
    assert {row["conversation_id"] for row in listing["active"]} >= {customer, "a-" + "5" * 32}

    status, _, body = call(console["base"], f"/agent/api/conversations/{customer}", cookie=pair)
    view = json.loads(body)
    assert view["transcript"][0]["text"] == "<b>转人工</b>"
    assert view["transcript"][0]["nlu"]["intent"] == "request_human"
    profile = view["profile"]
    assert profile["customer_id"] == 2 and "order_count" in profile
    assert "*" in profile["phone_masked"]

    path = f"/agent/api/conversations/{customer}"
    assert (
        call(console["base"], path + "/messages", "POST", pair, {"text": "你好"}, headers=API)[0]
        == 409
    )
    assert (
        call(console["base"], path + "/mode", "POST", pair, {"mode": "human"}, headers=API)[0]
        == 200
    )
    sender, events, query = FakeRasa.posted[-1]
    assert sender == customer and query["output_channel"] == ["socketio"]
    assert events[0] == {
        "event": "pause",
        "metadata": {"mode": "human", "agent": "agent", "role": "agent"},
    }
    assert events[1]["metadata"]["sender"] == "system"
    status, _, body = call(console["base"], "/agent/api/conversations", cookie=pair)
    assert customer not in [row["conversation_id"] for row in json.loads(body)["queue"]]

    assert (
        call(console["base"], path + "/messages", "POST", pair, {"text": "您好"}, headers=API)[0]
        == 200
    )
    [sent] = FakeRasa.posted[-1][1]
    assert sent["event"] == "bot" and sent["text"] == "您好"
    assert sent["metadata"]["sender"] == "agent" and sent["metadata"]["agent"] == "agent"
    assert (
        call(console["base"], path + "/mode", "POST", pair, {"mode": "auto"}, headers=API)[0] == 200
    )
    assert FakeRasa.posted[-1][1][-1]["event"] == "resume"
    status, _, body = call(console["base"], path, cookie=pair)
    roles = [line["role"] for line in json.loads(body)["transcript"]]
    assert roles == ["customer", "system", "agent", "system"]


def test_promises_worded_around_the_agents_authority_are_not_sent(console):
    conversation = "a-" + "9" * 32
    store(
        console["db"],
        conversation,
        [
            {
                "event": "user",
                "text": "东西坏了 你们得赔",
                "metadata": {},
                "parse_data": {"intent": {"name": "complain", "confidence": 0.9}, "entities": []},
            }
        ],
    )
    pair = cookie_pair(sign_in(console, "agent", "agent-demo")[1])
    path = f"/agent/api/conversations/{conversation}"
    assert (
        call(console["base"], path + "/mode", "POST", pair, {"mode": "human"}, headers=API)[0]
        == 200
    )

    def send(text):
        status, _, body = call(
            console["base"], path + "/messages", "POST", pair, {"text": text}, headers=API
        )
        return status, json.loads(body)

    sent = len(FakeRasa.posted)
    assert send("赔您伍佰") == (403, {"error": "above_authority"})
    assert send("补\u200b偿您 CNY 300") == (403, {"error": "above_authority"})
    assert send("补偿您几百块") == (403, {"error": "compensation_unclear"})
    assert len(FakeRasa.posted) == sent  # nothing reached the customer
    assert send("我这边给您申请补偿")[0] == 200
    assert send("300元") == (403, {"error": "above_authority"})  # the promise's second half
    assert send("补偿您20元，3天内到账")[0] == 200


def test_a_flood_of_new_senders_does_not_push_a_waiting_customer_out_of_the_queue(console):
    waiting = "a-" + "3" * 32
    now = time.time()
    store(
        console["db"],
        waiting,
        [
            {
                "event": "user",
                "timestamp": now - 600,
                "text": "转人工",
                "metadata": {},
                "parse_data": {"intent": {"name": "request_human", "confidence": 0.97}},
            },
        ],
    )
    for n in range(205):
        greeting = {
            "event": "user",
            "timestamp": now + n / 1000,
            "text": "你好",
            "metadata": {},
            "parse_data": {"intent": {"name": "greet", "confidence": 0.99}},
        }
        store(console["db"], f"a-flood{n:03d}", [greeting])
    pair = cookie_pair(sign_in(console, "agent", "agent-demo")[1])
    _, _, body = call(console["base"], "/agent/api/conversations", cookie=pair)
    listing = json.loads(body)
    assert waiting in [row["conversation_id"] for row in listing["queue"]]
    assert listing["queue_total"] == len(listing["queue"])
    assert listing["active_total"] >= 206 and len(listing["active"]) == 30
    assert listing["active"][0]["conversation_id"] == "a-flood204"  # newest first

    # the active list is paged and searchable; the queue stays whole on every page
    query = "?page=2&per_page=100&q=" + urllib.parse.quote("你好")
    _, _, body = call(console["base"], "/agent/api/conversations" + query, cookie=pair)
    second = json.loads(body)
    assert second["page"] == 2 and second["pages"] == 3 and second["active_total"] == 205
    assert [row["conversation_id"] for row in second["active"]][:2] == ["a-flood104", "a-flood103"]
    assert waiting in [row["conversation_id"] for row in second["queue"]]
    _, _, body = call(console["base"], "/agent/api/conversations?q=" + waiting[:12], cookie=pair)
    found = json.loads(body)["active"]
    assert [row["conversation_id"] for row in found] == [waiting]
    assert found[0]["state"] == "waiting" and found[0]["last_customer_text"] == "转人工"
    for bad in ("?page=abc", "?page=-1", "?per_page=%00", "?q=" + "%25" * 300):
        assert call(console["base"], "/agent/api/conversations" + bad, cookie=pair)[0] == 200


def test_unknown_and_malformed_conversations(console):
    _, cookie = sign_in(console, "supervisor", "supervisor-demo")
    pair = cookie_pair(cookie)
    assert call(console["base"], "/agent/api/conversations/a-nothing", cookie=pair)[0] == 404
    assert call(console["base"], "/agent/api/conversations/%3Cx%3E", cookie=pair)[0] == 400


def test_sign_out_ends_the_session(console):
    _, cookie = sign_in(console, "agent", "agent-demo")
    pair = cookie_pair(cookie)
    assert call(console["base"], "/agent/api/me", cookie=pair)[0] == 200
    status, headers, _ = call(console["base"], "/agent/signout", "POST", pair, form={})
    assert status == 302 and "max-age=0" in (headers.get("Set-Cookie") or "").lower()
    assert call(console["base"], "/agent/api/me", cookie=pair)[0] == 401  # the old cookie is dead


def test_repeated_wrong_passwords_lock_the_name_but_not_other_accounts(console):
    for _ in range(5):
        assert sign_in(console, "Ghost", "guess")[0] == 401
    status, headers, page = call(
        console["base"], "/agent/signin", "POST", form={"username": "ghost", "password": "x"}
    )
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 900
    assert "登录失败次数过多" in page and "15 分钟后再试" in page
    assert sign_in(console, "agent", "agent-demo")[0] == 302


def test_full_width_and_invisible_look_alikes_do_not_get_past_a_locked_name(console):
    # (the trainer's name: the other tests sign in as agent and supervisor)
    for _ in range(5):
        assert sign_in(console, "trainer", "guess")[0] == 401
    for look_alike in ("ｔｒａｉｎｅｒ", "TRAINER", "trai\u200bner", "\u200dＴｒａｉｎｅｒ "):
        status, cookie = sign_in(console, look_alike, "trainer-demo")
        assert status == 429 and not cookie, look_alike


def test_compensation_above_the_frontline_waits_in_the_supervisors_queue(console):
    escalated = "a-" + "7" * 32
    now = time.time()
    store(
        console["db"],
        escalated,
        [
            {
                "event": "user",
                "timestamp": now - 40,
                "text": "刚买就降价了 差了两百块",
                "metadata": {},
                "parse_data": {
                    "intent": {"name": "price_protection", "confidence": 0.95},
                    "entities": [],
                },
            },
            {
                "event": "slot",
                "timestamp": now - 39,
                "name": "handoff_reason",
                "value": "compensation_above_limit",
            },
        ],
    )

    def listing(username, password):
        pair = cookie_pair(sign_in(console, username, password)[1])
        path = "/agent/api/conversations?q=" + escalated  # the active list is paged
        _, _, body = call(console["base"], path, cookie=pair)
        return json.loads(body)

    frontline = listing("agent", "agent-demo")
    assert escalated not in [row["conversation_id"] for row in frontline["queue"]]
    assert escalated in [row["conversation_id"] for row in frontline["active"]]
    [entry] = [
        row
        for row in listing("supervisor", "supervisor-demo")["queue"]
        if row["conversation_id"] == escalated
    ]
    assert entry["queue"] == "supervisor" and entry["reasons"] == ["compensation_above_limit"]

    # a frontline agent can neither take it out of the supervisors' queue nor drop it
    pair = cookie_pair(sign_in(console, "agent", "agent-demo")[1])
    path = f"/agent/api/conversations/{escalated}/mode"
    for mode in ("human", "assist", "auto"):
        status, _, body = call(console["base"], path, "POST", pair, {"mode": mode}, headers=API)
        assert (status, json.loads(body)) == (409, {"error": "supervisor_required"}) or (
            mode == "auto" and status == 200  # handing back what the bot has is no change
        )
    assert escalated in [
        row["conversation_id"] for row in listing("supervisor", "supervisor-demo")["queue"]
    ]


def test_only_the_rasa_server_may_push_events(console):
    pushed = {"sender_id": "c" * 32, "event": "user"}
    secret = {ENDPOINT_SECRET_HEADER: PUSH_SECRET}
    assert call(console["base"], "/internal/events", "POST", body=pushed)[0] == 401
    wrong = {ENDPOINT_SECRET_HEADER: "guess"}
    assert call(console["base"], "/internal/events", "POST", body=pushed, headers=wrong)[0] == 401
    for bad in ({"event": "user"}, {"sender_id": "../../etc", "event": "user"}, ["x"]):
        assert call(console["base"], "/internal/events", "POST", body=bad, headers=secret)[0] == 400
    assert call(console["base"], "/internal/events", "POST", body=pushed, headers=secret)[0] == 204
