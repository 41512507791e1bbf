"""The persona slot changes only on an explicit choice (domain.yml mapping, run by Rasa itself).

Rasa's own slot extraction runs with domain.yml against a small HTTP action endpoint that runs
the real `action_extract_persona` with rasa_sdk's executor and records every call, so the tests
see both what Rasa asks the action server and which slot it sets.
"""

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from actions.kit.details import ActionExtractDetails
from actions.kit.persona import ActionExtractPersona
from bot.settings import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def action_endpoint():
    """An HTTP action endpoint running the real persona action; yields (endpoint, calls)."""
    executor = ActionExecutor()
    executor.register_action(ActionExtractPersona)
    executor.register_action(ActionExtractDetails)  # the detail slots' mapping, run every turn
    calls = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(call["next_action"])
            body = json.dumps(asyncio.run(executor.run(call))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield EndpointConfig(f"http://127.0.0.1:{server.server_port}/webhook"), calls
    server.shutdown()
    server.server_close()


def persona_after(domain, action_endpoint, text, intent, value):
    endpoint, calls = action_endpoint
    calls.clear()
    tracker = DialogueStateTracker.from_events("persona-slot", [], slots=domain.slots)
    entity = {"entity": "persona", "value": value, "start": 0, "end": 2}
    tracker.update(UserUttered(text, {"name": intent, "confidence": 1.0}, [entity]))
    events = asyncio.run(
        ActionExtractSlots(endpoint).run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator(domain.responses),
            tracker,
            domain,
        )
    )
    persona_calls = [name for name in calls if name == "action_extract_persona"]
    return [e.value for e in events if isinstance(e, SlotSet) and e.key == "persona"], persona_calls


def test_a_persona_word_in_a_shopping_question_does_not_switch_the_voice(domain, action_endpoint):
    for text, intent, value in [
        ("松鼠家的坚果有货吗", "ask_stock", "master"),
        ("有没有专业一点的油烟机", "ask_product_info", "advisor"),
    ]:
        assert persona_after(domain, action_endpoint, text, intent, value) == ([], [])


def test_an_explicit_choice_and_the_widget_picker_still_switch_it(domain, action_endpoint):
    chosen = persona_after(domain, action_endpoint, "我要疯癫组的客服", "choose_persona", "crazy")
    assert chosen == (["crazy"], ["action_extract_persona"])
    # the widget's picker and the persona buttons send /choose_persona{"persona": "<id>"}
    payload = '/choose_persona{"persona": "lady"}'
    assert persona_after(domain, action_endpoint, payload, "choose_persona", "lady")[0] == ["lady"]
