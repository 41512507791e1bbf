"""The NLG inside the Rasa server: the web app's /nlg with a timeout, else the domain's text."""

import asyncio
import contextlib
import time

import pytest
from aiohttp import web
from rasa.core.nlg.callback import nlg_request_format
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlg.guarded import GuardedNLG
from bot.nlg.renderer import Renderer
from bot.nlg.script import to_script
from bot.processes import free_port
from shop.endpoint_secret import HEADER
from tests.bot.http_stub import serving

SECRET = "nlg-test-secret"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  order_id:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_order_shipped:
    - text: "订单 {order_id} 已发货，{carrier} 运输中"
  utter_shop_unavailable:
    - text: "非常抱歉亲，系统暂时查不到，正在为您转接人工客服~"
      buttons:
        - {title: "转人工客服", payload: "/request_human"}
"""
)
SHIPPED = "订单 2024112300123 已发货，顺丰 运输中"
APOLOGY = "非常抱歉亲，系统暂时查不到，正在为您转接人工客服~"


def tracker(text="帮我查下订单"):
    return DialogueStateTracker.from_events(
        "nlg-guard",
        [
            UserUttered(text, {"name": "check_order_status", "confidence": 1.0}),
            SlotSet("order_id", "2024112300123"),
        ],
        slots=DOMAIN.slots,
    )


def nlg(url, timeout=0.5, secret=SECRET):
    endpoint = EndpointConfig.from_dict(
        {"url": url, "headers": {HEADER: secret}, "timeout": timeout, "cooldown": 30}
    )
    return GuardedNLG(endpoint, DOMAIN)


@contextlib.asynccontextmanager
async def persona_renderer():
    """A stand-in /nlg that answers only requests with the secret, and counts them."""
    seen = []

    async def answer(request):
        seen.append(request.headers.get(HEADER))
        if request.headers.get(HEADER) != SECRET:
            return web.json_response({"error": "no secret"}, status=401)
        return web.json_response({"text": "主人，您的宝贝已经出发啦"})

    async with serving("/nlg", answer) as url:
        yield url, seen


@contextlib.asynccontextmanager
async def hung_server():
    """Accepts connections and never answers, like a stopped (SIGSTOP) web app."""
    held = []
    server = await asyncio.start_server(lambda r, w: held.append(w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/nlg"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def generate(generator, response, conversation=None, **arguments):
    return asyncio.run(
        generator.generate(response, conversation or tracker(), "socketio", **arguments)
    )


def test_the_web_app_answers_when_it_is_up_and_is_sent_the_secret():
    async def run():
        async with persona_renderer() as (url, seen):
            answer = await nlg(url).generate(
                "utter_order_shipped", tracker(), "rest", carrier="顺丰"
            )
            refused = await nlg(url, secret="guessed").generate(
                "utter_order_shipped", tracker(), "rest", carrier="顺丰"
            )
            return answer, refused, seen

    answer, refused, seen = asyncio.run(run())
    assert answer == {"text": "主人，您的宝贝已经出发啦"}
    assert refused == {"text": SHIPPED}  # refused by /nlg: the domain's text instead
    assert seen == [SECRET, "guessed"]


def test_a_dead_web_app_gets_the_domain_text_with_facts_card_and_script():
    dead = f"http://127.0.0.1:{free_port()}/nlg"
    card = {"card": "order", "order_id": "2024112300123"}
    answer = generate(nlg(dead), "utter_order_shipped", carrier="顺丰", card=card)
    assert answer == {"text": SHIPPED, "custom": card}
    parcel = {"card": "logistics", "carrier": "顺丰速运", "tracking_number": "SF1234567890"}
    traditional = generate(
        nlg(dead), "utter_order_shipped", tracker("幫我查下訂單"), carrier="顺丰", card=parcel
    )
    assert traditional == {
        "text": to_script(SHIPPED, "traditional"),
        "custom": {**parcel, "carrier": "順豐速運", "script": "traditional"},
    }
    assert traditional["text"] != SHIPPED


@pytest.mark.parametrize("response", ["utter_order_shipped", "utter_not_in_the_domain"])
def test_what_cannot_be_filled_becomes_the_apology_with_a_person(response):
    dead = f"http://127.0.0.1:{free_port()}/nlg"
    answer = generate(nlg(dead), response)  # no carrier given
    assert answer["text"] == APOLOGY
    assert answer["buttons"] == [{"title": "转人工客服", "payload": "/request_human"}]
    assert "{" not in answer["text"] and "None" not in answer["text"]


def test_a_hung_web_app_is_waited_for_once_then_skipped_during_the_cool_down():
    async def run():
        async with hung_server() as url:
            generator = nlg(url, timeout=0.5)
            times = []
            for _ in range(3):
                started = time.monotonic()
                answer = await generator.generate(
                    "utter_order_shipped", tracker(), "socketio", carrier="顺丰"
                )
                times.append(time.monotonic() - started)
                assert answer == {"text": SHIPPED}
            return times

    first, second, third = asyncio.run(run())
    assert 0.4 < first < 2.0
    assert second < 0.1 and third < 0.1


def test_built_before_the_model_it_learns_the_responses_or_reads_the_domain_file():
    dead = f"http://127.0.0.1:{free_port()}/nlg"
    endpoint = EndpointConfig.from_dict({"url": dead, "timeout": 0.5})
    learning = GuardedNLG(endpoint, Domain.empty())  # as Rasa builds it at start-up
    shipped = {"utter_order_shipped": [{"text": "订单 {order_id} 发出了"}]}
    answer = generate(learning, "utter_order_shipped", domain_responses=shipped)
    assert answer == {"text": "订单 2024112300123 发出了"}
    from_file = GuardedNLG(endpoint, Domain.empty())
    [apology] = Domain.load("domain.yml").responses["utter_shop_unavailable"][:1]
    assert generate(from_file, "utter_shop_unavailable")["text"] == apology["text"]


STORE_VARIABLES = [
    "TRACKER_DB",
    "WEB_EVENTS_URL",
    "REDIS_HOST",
    "RABBITMQ_HOST",
    "RABBITMQ_USER",
    "RABBITMQ_PASSWORD",
]
STORE_VARIABLES += [f"TRACKER_DB_{part}" for part in ("HOST", "NAME", "USER", "PASSWORD")]


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.scale-out.yml"])
def test_both_endpoint_files_render_with_the_persona_renderer_inside_rasa(endpoints, monkeypatch):
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.core.utils import AvailableEndpoints

    from bot.settings import ROOT

    async def run(read):
        async with persona_renderer() as (url, seen):
            monkeypatch.setenv("NLG_ENDPOINT_URL", url)
            generator = NaturalLanguageGenerator.create(read().nlg, DOMAIN)
            answer = await generator.generate("utter_order_shipped", tracker(), "rest")
            return generator, answer, seen

    for name in STORE_VARIABLES:  # the stores are not built here, but Rasa reads every variable
        monkeypatch.setenv(name, "unused")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("SHOP_ENDPOINT_SECRET", SECRET)
    monkeypatch.setenv("SHOP_SIGNING_KEY", "test-signing-key")
    generator, answer, seen = asyncio.run(
        run(lambda: AvailableEndpoints.read_endpoints(str(ROOT / endpoints)))
    )
    assert isinstance(generator, GuardedNLG) and generator.timeout <= 1.5
    # rendered in the Rasa process by the persona renderer itself: the web app is not asked
    expected = Renderer(signing_key="test-signing-key").render(
        nlg_request_format("utter_order_shipped", tracker(), "rest")
    )
    assert answer == expected and answer["text"] and seen == []
    # the replicas call the action server as the embedded Rasa does
    action = AvailableEndpoints.read_endpoints(str(ROOT / endpoints)).action
    embedded = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).action
    assert action.headers == {HEADER: SECRET} and action.kwargs == embedded.kwargs
