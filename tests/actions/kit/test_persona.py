"""The persona slot takes only the contract's ids, also through Rasa's HTTP API.

The last test runs Rasa's own slot extraction (`ActionExtractSlots`, what Rasa does after every
message, e.g. one posted to `/conversations/<id>/trigger_intent`) with domain.yml against a real
action server process.
"""

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.kit.persona import ActionExtractPersona, persona_ids, valid_persona
from actions.kit.session_start import ActionSessionStart
from bot.processes import free_port
from tests.actions.conftest import make_tracker

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))
CONTRACT = {"default", "master", "lady", "spicy", "fresh", "crazy", "advisor"}
REFUSED = [
    "<img src=x onerror=alert(1)>",
    {"id": "master"},
    ["master"],
    "MASTER",
    " master",
    "主人",
    "evil",
    "__other__",
    "",
    None,
    7,
]


def persona_entity(value):
    return {"entity": "persona", "value": value, "start": 0, "end": 2}


def extract(entities, slots=None, domain=DOMAIN):
    tracker = make_tracker("我要主人模式", "choose_persona", slots=slots, entities=entities)
    return asyncio.run(ActionExtractPersona().run(CollectingDispatcher(), tracker, domain))


def test_the_domain_lists_exactly_the_contract_and_the_channels_personas():
    from bot.nlg.personas import PERSONA_IDS as RENDERED
    from bot.web.personas import PERSONA_IDS as CHANNELS

    assert persona_ids(DOMAIN) == CONTRACT == set(CHANNELS) == set(RENDERED)
    assert {path.stem for path in (ROOT / "personas").glob("*.yml")} == CONTRACT


@pytest.mark.parametrize("persona", sorted(CONTRACT))
def test_a_contract_persona_is_taken(persona):
    assert extract([persona_entity(persona)], {"persona": "default"}) == [
        SlotSet("persona", persona)
    ]


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_anything_else_is_refused_and_the_current_persona_stays(value):
    assert extract([persona_entity(value)], {"persona": "lady"}) == []
    assert valid_persona(value, DOMAIN) is None


def test_the_last_contract_persona_named_wins_and_other_entities_are_ignored():
    entities = [
        persona_entity("crazy"),
        {"entity": "product", "value": "master"},
        persona_entity("fresh"),
        persona_entity("<b>x</b>"),
        "persona",
    ]
    assert extract(entities) == [SlotSet("persona", "fresh")]
    assert extract([]) == []


def test_a_new_session_does_not_carry_an_unknown_persona_over():
    def carried(persona):
        tracker = make_tracker(slots={"persona": persona, "customer_style": "amiable"})
        events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, DOMAIN))
        return {event["name"]: event["value"] for event in events if event["event"] == "slot"}

    assert carried("spicy") == {"persona": "spicy", "customer_style": "amiable"}
    assert carried("<script>alert(1)</script>") == {"customer_style": "amiable"}
    assert carried({"voice": "master"}) == {"customer_style": "amiable"}


@pytest.fixture(scope="module")
def action_server():
    port, secret = free_port(), "persona-test-secret"
    env = {**os.environ, "SHOP_ENDPOINT_SECRET": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "no action server"
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/webhook", secret
    process.terminate()
    process.wait(timeout=10)


def test_rasa_fills_the_slot_only_with_a_contract_persona(action_server):
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.events import SlotSet as RasaSlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    url, secret = action_server
    domain = Domain.load(str(ROOT / "domain.yml"))
    endpoint = EndpointConfig(url, headers={"X-Shop-Endpoint-Secret": secret})

    def slot_events(intent, value, current="advisor"):
        entities = [{"entity": "persona", "value": value, "start": 0, "end": 1}]
        parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": entities, "text": ""}
        tracker = DialogueStateTracker.from_events(
            "persona-api",
            [
                RasaSlotSet("persona", current),
                ActionExecuted("action_listen"),
                UserUttered("", parse["intent"], entities, parse),
            ],
            slots=domain.slots,
        )
        events = asyncio.run(
            ActionExtractSlots(endpoint).run(
                CollectingOutputChannel(),
                TemplatedNaturalLanguageGenerator(domain.responses),
                tracker,
                domain,
            )
        )
        return [
            (e.key, e.value) for e in events if isinstance(e, RasaSlotSet) and e.key == "persona"
        ]

    assert slot_events("choose_persona", "crazy") == [("persona", "crazy")]
    assert slot_events("choose_persona", "<img src=x onerror=alert(1)>") == []
    assert slot_events("choose_persona", {"id": "master"}) == []
    assert slot_events("choose_persona", "Master") == []
    # only an explicit choice switches the voice
    assert slot_events("greet", "crazy") == []
