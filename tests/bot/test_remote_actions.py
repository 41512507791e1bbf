"""Action calls from the Rasa server: answered within seconds, a failure becomes the apology."""

import asyncio
import contextlib
import time

import pytest
import rasa.core.actions.action as rasa_action
import rasa.core.actions.forms as rasa_forms
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, action_for_name_or_text
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, FollowupAction, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import remote_actions
from bot.nlg.guarded import GuardedNLG
from bot.processes import free_port
from bot.remote_actions import GuardedRemoteAction
from shop.endpoint_secret import HEADER
from tests.bot.http_stub import serving

SECRET = "action-test-secret"
APOLOGY = "非常抱歉亲，系统暂时查不到，正在为您转接人工客服~"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  handoff_reason:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
actions:
  - action_check_order_status
responses:
  utter_shop_unavailable:
    - text: "非常抱歉亲，系统暂时查不到，正在为您转接人工客服~"
      buttons:
        - {title: "转人工客服", payload: "/request_human"}
"""
)


@pytest.fixture(autouse=True)
def fresh_cooldowns(monkeypatch):
    monkeypatch.setattr(remote_actions, "_cooldowns", {})


def endpoint(url, timeout=0.5):
    return EndpointConfig.from_dict(
        {"url": url, "headers": {HEADER: SECRET}, "timeout": timeout, "cooldown": 30}
    )


def conversation():
    return DialogueStateTracker.from_events(
        "action-guard",
        [UserUttered("帮我查下订单", {"name": "check_order_status", "confidence": 1.0})],
        slots=DOMAIN.slots,
    )


async def run(url, tracker=None, timeout=0.5):
    """Runs the action once; its events and how long it took."""
    dead_nlg = GuardedNLG(EndpointConfig(f"http://127.0.0.1:{free_port()}/nlg"), DOMAIN)
    action = GuardedRemoteAction("action_check_order_status", endpoint(url, timeout))
    started = time.monotonic()
    events = await action.run(
        CollectingOutputChannel(), dead_nlg, tracker or conversation(), DOMAIN
    )
    return events, time.monotonic() - started


def is_apology(events):
    """The apology with a person offered, and the turn ends there (no policy guesses on)."""
    [said, handoff, listen] = events
    return (
        isinstance(said, BotUttered)
        and said.text == APOLOGY
        and said.data["buttons"] == [{"title": "转人工客服", "payload": "/request_human"}]
        and handoff == SlotSet("handoff_reason", "system_error")
        and listen == FollowupAction("action_listen")
    )


@contextlib.asynccontextmanager
async def action_server(status=200, body=None):
    """A stand-in action server: answers `body` with `status` to calls with the secret."""
    seen = []

    async def webhook(request):
        seen.append(request.headers.get(HEADER))
        if request.headers.get(HEADER) != SECRET:
            return web.json_response({"error": "no secret"}, status=401)
        return web.json_response(body, status=status)

    async with serving("/webhook", webhook) as url:
        yield url, seen


@contextlib.asynccontextmanager
async def hung_server():
    """Accepts connections and never answers, like a stopped (SIGSTOP) action server."""
    held = []
    server = await asyncio.start_server(lambda r, w: held.append(w), "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/webhook"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def test_a_working_action_server_is_sent_the_secret_and_its_events_kept():
    answer = {
        "events": [{"event": "slot", "name": "handoff_reason", "value": "x"}],
        "responses": [],
    }

    async def go():
        async with action_server(body=answer) as (url, seen):
            events, _ = await run(url)
            return events, seen

    events, seen = asyncio.run(go())
    assert events == [SlotSet("handoff_reason", "x")] and seen == [SECRET]


def test_a_failed_session_start_starts_the_session_silently_without_carrying_slots_over():
    async def go():
        dead_nlg = GuardedNLG(EndpointConfig(f"http://127.0.0.1:{free_port()}/nlg"), DOMAIN)
        dead = endpoint(f"http://127.0.0.1:{free_port()}/webhook", 0.5)
        action = GuardedRemoteAction("action_session_start", dead)
        tracker = conversation()
        tracker.update(SlotSet("order_id", "2024112300123"))
        return await action.run(CollectingOutputChannel(), dead_nlg, tracker, DOMAIN)

    events = asyncio.run(go())
    assert [type(e).__name__ for e in events] == ["SessionStarted", "ActionExecuted"]
    assert events[-1].action_name == "action_listen"


def test_a_dead_action_server_is_answered_with_the_apology_at_once():
    events, took = asyncio.run(run(f"http://127.0.0.1:{free_port()}/webhook"))
    assert is_apology(events) and took < 2


@pytest.mark.parametrize("status", [401, 500])
def test_a_refusing_or_failing_action_server_is_answered_with_the_apology(status):
    async def go():
        async with action_server(status=status, body={"error": "boom"}) as (url, _):
            return await run(url)

    events, _ = asyncio.run(go())
    assert is_apology(events)


def test_a_form_rejection_is_not_a_failure():
    body = {"action_name": "action_check_order_status", "error": "no"}

    async def go():
        async with action_server(status=400, body=body) as (url, _):
            return await run(url)

    with pytest.raises(ActionExecutionRejection):
        asyncio.run(go())


def test_a_hung_action_server_is_waited_for_once_and_apologised_for_once_per_message():
    async def go():
        async with hung_server() as url:
            tracker = conversation()
            first, first_took = await run(url, tracker)
            for event in first:
                tracker.update(event)
            second, second_took = await run(url, tracker)  # the next action of the same message
            tracker.update(UserUttered("在吗", {"name": "greet", "confidence": 1.0}))
            third, _ = await run(url, tracker)  # the next message, still within the cool-down
            return first, first_took, second, second_took, third

    first, first_took, second, second_took, third = asyncio.run(go())
    assert is_apology(first) and 0.4 < first_took < 2.5
    assert second == [
        SlotSet("handoff_reason", "system_error"),
        FollowupAction("action_listen"),
    ]
    assert second_took < 0.1
    assert is_apology(third)


def test_install_makes_rasa_build_guarded_remote_actions(monkeypatch):
    monkeypatch.setattr(rasa_action, "RemoteAction", rasa_action.RemoteAction)
    monkeypatch.setattr(rasa_forms, "RemoteAction", rasa_forms.RemoteAction)
    url = "http://127.0.0.1:1/webhook"
    assert type(action_for_name_or_text("action_check_order_status", DOMAIN, endpoint(url))) is (
        rasa_action.RemoteAction
    )
    remote_actions.install()
    built = action_for_name_or_text("action_check_order_status", DOMAIN, endpoint(url))
    assert type(built) is GuardedRemoteAction and built.timeout == 0.5
    assert rasa_forms.RemoteAction is GuardedRemoteAction  # forms' validate_<form> calls
