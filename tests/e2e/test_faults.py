"""Faults on a private stack: only Rasa calls the action server and /nlg, and no message goes
unanswered when either is dead or hung (an answer within 5 s)."""

import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.settings import ROOT
from shop.endpoint_secret import HEADER
from tests.e2e.conftest import running_stack, stack_settings, texts

pytestmark = pytest.mark.e2e

ANSWER_WITHIN = 5.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = stack_settings(tmp_path_factory.mktemp("faults"), ROOT / "endpoints.yml")
    with running_stack(settings) as running:
        yield running


def timed_say(stack, sender, text):
    started = time.monotonic()
    replies = stack.say(sender, text)
    return replies, time.monotonic() - started


def status_of(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def wait_healthy(child, timeout=60):
    deadline = time.monotonic() + timeout
    while not child.healthy():
        assert time.monotonic() < deadline, child.log_tail()
        time.sleep(0.3)


def test_only_the_rasa_server_may_call_the_action_server_and_nlg(stack):
    config = stack.settings
    actions = f"http://{config.host}:{config.action_port}"
    call = json.dumps({"next_action": "action_check_free_shipping", "tracker": {}}).encode()
    assert status_of(f"{actions}/webhook", call, {"Content-Type": "application/json"}) == 401
    assert status_of(f"{actions}/actions") == 401
    assert status_of(f"{actions}/actions", headers={HEADER: "guessed"}) == 401
    assert status_of(f"{actions}/actions", headers={HEADER: config.endpoint_secret}) == 200
    assert status_of(f"{actions}/health") == 200
    render = json.dumps({"response": "utter_greet", "tracker": {}}).encode()
    assert status_of(config.nlg_url, render, {"Content-Type": "application/json"}) == 401


def test_the_token_is_not_on_the_rasa_servers_command_line(stack, sender):
    rasa = stack.children["rasa server"]
    command_line = Path(f"/proc/{rasa.popen.pid}/cmdline").read_bytes()
    assert stack.settings.rasa_token.encode() not in command_line
    assert b"bot.rasa_server" in command_line
    stack.say(sender, "亲在吗")
    assert stack.tracker(sender)["sender_id"] == sender  # the API accepts the token Rasa read


def test_a_dead_web_app_does_not_silence_the_bot(stack, sender, responses):
    web = stack.children["web app"]
    web.stop()
    try:
        replies, took = timed_say(stack, sender, "亲在吗")
        assert took < ANSWER_WITHIN
        # the Rasa process renders in the persona itself, so a reply is not the apology
        assert texts(replies) and texts(replies) != responses["utter_shop_unavailable"]
    finally:
        web.start()
        wait_healthy(web)


def test_a_hung_then_dead_action_server_is_answered_in_time_with_a_person(stack, responses):
    actions = stack.children["action server"]
    try:
        actions.popen.send_signal(signal.SIGSTOP)
        for sender in ("fault-hung", "fault-dead"):
            replies, took = timed_say(stack, sender, "包邮吗")
            assert took < ANSWER_WITHIN
            assert texts(replies) == responses["utter_shop_unavailable"]
            assert replies[0]["buttons"][0]["payload"] == "/request_human"
            assert stack.tracker(sender)["slots"]["handoff_reason"] == "system_error"
            actions.stop()  # the second customer meets a dead one
    finally:
        actions.stop()
        actions.start()
        wait_healthy(actions)
