"""The Rasa client against a small stand-in of Rasa's HTTP API on this machine's loopback."""

import asyncio
import json
import socket
import threading
from pathlib import Path

import pytest
from aiohttp import web

from bot.rasa_client import RasaClient, RasaUnavailable, call_blocking, healthy_blocking

TOKEN = "secret-token"


class FakeRasa:
    """Rasa's tracker, events, trigger_intent, status, model loading and a webhook.

    Records what it was sent. Like Rasa, `PUT /model` reads the named file itself: it switches
    (204, empty) to a file that is there and answers 500 `LoadingError` for one that is not.
    """

    def __init__(self):
        self.seen = []
        self.peers = []
        self.trackers = {}
        self.status = 200
        self.delay = 0.0
        self.body = None  # raw answer instead of the JSON one
        self.model = "m.tar.gz"

    async def _answer(self, request, data):
        self.seen.append((request.method, request.path_qs, await request.read()))
        self.peers.append(request.transport.get_extra_info("peername"))
        if request.query.get("token") != TOKEN and not request.path.startswith("/webhooks/"):
            return web.json_response({"error": "no token"}, status=401)
        await asyncio.sleep(self.delay)
        if self.body is not None:
            return web.Response(body=self.body, content_type="text/html")
        return web.json_response(data, status=self.status)

    async def tracker(self, request):
        sender = request.match_info["sender"]
        return await self._answer(request, {"sender_id": sender, **self.trackers.get(sender, {})})

    async def events(self, request):
        return await self._answer(request, {})

    async def trigger(self, request):
        return await self._answer(request, {"tracker": {}, "messages": []})

    async def status_page(self, request):
        return await self._answer(request, {"model_file": self.model})

    async def load_model(self, request):
        named = (await request.json()).get("model_file") or ""
        if request.query.get("token") == TOKEN and not Path(named).is_file():
            return web.json_response(
                {"status": "failure", "reason": "LoadingError", "code": 500}, status=500
            )
        answer = await self._answer(request, {})
        if answer.status == 200:
            self.model = named
            return web.Response(status=204)
        return answer

    async def webhook(self, request):
        return await self._answer(request, {"ok": True})

    def app(self):
        app = web.Application()
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self.events)
        app.router.add_post("/conversations/{sender}/trigger_intent", self.trigger)
        app.router.add_get("/status", self.status_page)
        app.router.add_put("/model", self.load_model)
        app.router.add_post("/webhooks/assist/{what}", self.webhook)
        return app


async def serve(fake):
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def scenario(work):
    """Runs `work(fake, url)` with the stand-in serving in the same event loop."""

    async def run():
        fake = FakeRasa()
        runner, url = await serve(fake)
        try:
            return await work(fake, url)
        finally:
            await runner.cleanup()

    return asyncio.run(run())


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_tracker_is_read_with_the_token_and_every_event():
    async def work(fake, url):
        fake.trackers["c-1"] = {"events": [{"event": "user", "text": "在吗"}]}
        async with RasaClient(url, TOKEN) as rasa:
            tracker = await rasa.tracker("c-1")
            events = await rasa.events("c-1")
        return fake.seen, tracker, events

    seen, tracker, events = scenario(work)
    assert seen[0][:2] == ("GET", f"/conversations/c-1/tracker?token={TOKEN}&include_events=ALL")
    assert tracker["sender_id"] == "c-1"
    assert events == [{"event": "user", "text": "在吗"}]


def test_a_conversation_id_is_one_path_segment():
    async def work(fake, url):
        async with RasaClient(url, TOKEN) as rasa:
            await rasa.tracker("a/b?c")
        return fake.seen

    [(_, path, _)] = scenario(work)
    assert path.startswith("/conversations/a%2Fb%3Fc/tracker?token=")


def test_appended_events_are_posted_as_json_and_delivered_through_socketio():
    events = [{"event": "bot", "text": "客服小美已加入对话", "metadata": {"sender": "system"}}]

    async def work(fake, url):
        async with RasaClient(url, TOKEN) as rasa:
            await rasa.append_events("c-1", events)
        return fake.seen

    [(method, path, body)] = scenario(work)
    assert method == "POST"
    assert path == (
        f"/conversations/c-1/tracker/events?token={TOKEN}&output_channel=socketio"
        "&execute_side_effects=true&include_events=NONE"
    )
    assert json.loads(body) == events


def test_an_external_intent_is_triggered_with_its_entities():
    async def work(fake, url):
        async with RasaClient(url, TOKEN) as rasa:
            answer = await rasa.trigger_intent("c-1", "EXTERNAL_shipping_notice", {"goods": "坚果"})
        return fake.seen, answer

    [(_, path, body)], answer = scenario(work)
    assert path == f"/conversations/c-1/trigger_intent?token={TOKEN}&output_channel=latest"
    assert json.loads(body) == {"name": "EXTERNAL_shipping_notice", "entities": {"goods": "坚果"}}
    assert answer == {"tracker": {}, "messages": []}


def test_a_refusal_names_its_status_and_never_the_token():
    async def work(fake, url):
        async with RasaClient(url, "wrong-token") as rasa:
            with pytest.raises(RasaUnavailable) as refused:
                await rasa.tracker("c-1")
        fake.status = 500
        async with RasaClient(url, TOKEN) as rasa:
            with pytest.raises(RasaUnavailable) as failed:
                await rasa.append_events("c-1", [])
        return refused.value, failed.value

    refused, failed = scenario(work)
    assert (refused.status, refused.timed_out) == (401, False)
    assert failed.status == 500 and "500" in str(failed)
    assert "wrong-token" not in str(refused) and TOKEN not in str(failed)


def test_no_answer_in_time_is_a_timeout_and_a_missing_server_is_unreachable():
    async def work(fake, url):
        fake.delay = 1.0
        async with RasaClient(url, TOKEN, timeout=0.2) as rasa:
            with pytest.raises(RasaUnavailable) as slow:
                await rasa.trigger_intent("c-1", "EXTERNAL_x", {})
        async with RasaClient(closed_port_url(), TOKEN) as rasa:
            with pytest.raises(RasaUnavailable) as gone:
                await rasa.tracker("c-1")
        return slow.value, gone.value

    slow, gone = scenario(work)
    assert slow.timed_out and slow.status is None and "0.2 s" in str(slow)
    assert not gone.timed_out and gone.status is None
    assert TOKEN not in str(gone)


def test_an_answer_that_is_not_json_is_unavailable_too():
    async def work(fake, url):
        fake.body = b"<html>proxy error</html>"
        async with RasaClient(url, TOKEN) as rasa:
            with pytest.raises(RasaUnavailable, match="not JSON"):
                await rasa.tracker("c-1")

    scenario(work)


def test_a_model_is_loaded_by_path_and_a_file_rasa_cannot_load_is_refused(tmp_path):
    model = tmp_path / "20261207-new.tar.gz"
    model.write_bytes(b"model")

    async def work(fake, url):
        async with RasaClient(url, TOKEN) as rasa:
            await rasa.load_model(model, timeout=5)
            loaded = (await rasa.status())["model_file"]
            with pytest.raises(RasaUnavailable) as missing:
                await rasa.load_model(tmp_path / "gone.tar.gz")
            after_failure = (await rasa.status())["model_file"]
        fake.delay = 1.0
        async with RasaClient(url, TOKEN) as rasa:
            with pytest.raises(RasaUnavailable) as slow:
                await rasa.load_model(model, timeout=0.2)
        return fake.seen, loaded, missing.value, after_failure, slow.value

    seen, loaded, missing, after_failure, slow = scenario(work)
    method, path, body = seen[0]
    assert (method, path) == ("PUT", f"/model?token={TOKEN}")
    assert json.loads(body) == {"model_file": str(model)}
    assert loaded == str(model)
    assert missing.status == 500 and TOKEN not in str(missing)
    assert after_failure == str(model)  # a failed load leaves the model that served
    assert slow.timed_out


def test_a_call_can_allow_other_statuses_for_a_webhook():
    async def work(fake, url):
        fake.status = 409
        async with RasaClient(url, TOKEN) as rasa:
            found = await rasa.post_webhook(
                "assist/perform", b'{"a": 1}', {"X-Sig": "s"}, accept=(200, 409)
            )
            with pytest.raises(RasaUnavailable) as refused:
                await rasa.post_webhook("assist/perform", b"{}", {})
        return fake.seen, found, refused.value

    seen, found, refused = scenario(work)
    assert found == (409, {"ok": True})
    assert seen[0][1] == "/webhooks/assist/perform" and seen[0][2] == b'{"a": 1}'
    assert refused.status == 409


def test_calls_share_keep_alive_connections():
    async def work(fake, url):
        async with RasaClient(url, TOKEN) as rasa:
            for _ in range(5):
                await rasa.tracker("c-1")
        return fake.peers

    peers = scenario(work)
    assert len(peers) == 5 and len(set(peers)) == 1


def test_a_client_used_from_another_event_loop_opens_a_pool_there():
    fake = FakeRasa()
    ready = threading.Event()
    state = {}

    def server():
        loop = asyncio.new_event_loop()
        state["loop"] = loop
        runner, state["url"] = loop.run_until_complete(serve(fake))
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=server, daemon=True)
    thread.start()
    ready.wait(5)
    rasa = RasaClient(state["url"], TOKEN)
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert first.run_until_complete(rasa.healthy())
        first_pool = rasa._session
        assert second.run_until_complete(rasa.healthy())
        assert rasa._session is not first_pool  # a pool is never used outside its own loop
        first.run_until_complete(first_pool.close())
        second.run_until_complete(rasa.close())
        assert call_blocking(state["url"], TOKEN, lambda other: other.status()) == {
            "model_file": "m.tar.gz"
        }
        assert healthy_blocking(state["url"], TOKEN)
        assert not healthy_blocking(closed_port_url(), TOKEN, timeout=1.0)
    finally:
        first.close()
        second.close()
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(5)
    assert [path for _, path, _ in fake.seen] == [f"/status?token={TOKEN}"] * 4
