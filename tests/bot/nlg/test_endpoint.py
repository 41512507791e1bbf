"""POST /nlg through HTTP on the real web app process, as Rasa calls it."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bot.processes import free_port
from bot.settings import ROOT
from shop.endpoint_secret import ENV as ENDPOINT_SECRET_ENV
from shop.endpoint_secret import HEADER

SECRET = "endpoint-test-secret"


@pytest.fixture(scope="module")
def web_url(tmp_path_factory):
    port = free_port()
    var_dir = tmp_path_factory.mktemp("web")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WEB_PORT": str(port),
        "SHOP_VAR_DIR": str(var_dir),
        "SHOP_SIGNING_KEY": "endpoint-test-key",
        ENDPOINT_SECRET_ENV: SECRET,
        "SHOP_NOTICE_INTERVAL": "0",
        "SHOP_DEFAULT_PERSONA": "default",
    }
    log = (var_dir / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail((var_dir / "web.log").read_text(errors="replace")[-2000:])
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def post(url, body, secret=SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[HEADER] = secret
    request = urllib.request.Request(
        f"{url}/nlg", data=json.dumps(body, ensure_ascii=False).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def rasa_request(response, text, persona=None, arguments=None):
    events = [{"event": "user", "text": text, "metadata": {}}]
    slots = {"persona": "default", "customer_style": None}
    if persona:
        events.append({"event": "slot", "name": "persona", "value": persona})
        slots["persona"] = persona
    return {
        "response": response,
        "id": None,
        "arguments": arguments or {},
        "tracker": {"sender_id": "http-test", "slots": slots, "events": events},
        "channel": {"name": "socketio"},
    }


def test_the_endpoint_renders_in_the_conversations_persona(web_url, store):
    status, body = post(web_url, rasa_request("utter_greet", "在吗", persona="master"))
    assert status == 200
    assert body == {
        "text": store.get("master").responses["utter_greet"][0]["text"],
        "persona": "master",
    }


def test_the_endpoint_answers_in_rasas_format_with_buttons_and_the_card(web_url):
    from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator

    card = {"card": "product", "product_id": 7, "name": "方太EMD20T油烟机", "price_fen": 329900}
    args = {"card": card, "text": None, "buttons": [], "custom": {}}
    _, with_card = post(web_url, rasa_request("utter_ask_persona", "換個客服", arguments=args))
    assert CallbackNaturalLanguageGenerator.validate_response(with_card)
    assert with_card["custom"] == {**card, "name": "方太EMD20T油煙機", "script": "traditional"}
    assert with_card["text"].startswith("親") and len(with_card["buttons"]) == 7


def test_a_malformed_request_is_refused_clearly(web_url):
    request = urllib.request.Request(
        f"{web_url}/nlg",
        data=b'{"tracker": {}}',
        headers={"Content-Type": "application/json", HEADER: SECRET},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400


@pytest.mark.parametrize("secret", [None, "", "guessed", SECRET + "x"])
def test_a_request_without_the_endpoint_secret_is_refused(web_url, secret):
    body = rasa_request("utter_order_status", "查订单", arguments={"order_id": "forged"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(web_url, body, secret=secret)
    assert refused.value.code == 401
    assert "forged" not in refused.value.read().decode()
