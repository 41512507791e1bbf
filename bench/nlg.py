"""Persona rendering benchmark: /nlg latency through HTTP, and one answer in every persona.

Starts the web app on a free port (notice job off) with a fresh endpoint secret, sends
Rasa-shaped NLG requests presenting it as Rasa does (`X-Shop-Endpoint-Secret`, see
shop/endpoint_secret.py) with a realistic tracker (40 events) for every persona, and prints p50/p95 per persona and overall,
in-process render time for comparison, and a Markdown table with the same answer in every
persona (for the README).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlg.personas import PERSONA_IDS, PersonaStore  # noqa: E402
from bot.nlg.renderer import Renderer  # noqa: E402
from bot.processes import free_port  # noqa: E402
from shop import endpoint_secret  # noqa: E402

ROUNDS = 200
RESPONSES = [
    "utter_greet",
    "utter_order_status_shipped",
    "utter_logistics_stalled",
    "utter_ask_order_id",
]
FACTS = {
    "order_id": "2024112300123",
    "carrier": "顺丰",
    "tracking_number": "SF1402387766501",
    "latest_event": "2026-11-23 08:12 杭州转运中心 已发出",
    "items": "每日坚果礼盒×2",
    "amount": "268.00",
    "paid_at": "2026-11-22 21:16",
    "hours_since_update": "52",
    "latest_time": "2026-11-21 07:55",
    "latest_place": "杭州转运中心",
    "latest_description": "快件已到达",
    "ticket_id": "T20261123015",
    "follow_up_by": "2026-11-24 12:00",
}
TABLE_RESPONSE = "utter_order_status_shipped"


def _body(persona: str, response: str) -> Dict:
    events: List[Dict] = [{"event": "action", "name": "action_session_start"}]
    for turn in range(13):
        events.append({"event": "user", "text": f"帮我查下订单 第{turn}次", "metadata": {}})
        events.append({"event": "action", "name": "action_check_order_status"})
        events.append({"event": "bot", "text": "亲，订单已发货啦！"})
    events.append({"event": "slot", "name": "persona", "value": persona})
    return {
        "response": response,
        "id": None,
        "arguments": dict(FACTS),
        "tracker": {
            "sender_id": "bench",
            "slots": {"persona": persona, "customer_style": None, "order_id": FACTS["order_id"]},
            "latest_message": {},
            "events": events,
        },
        "channel": {"name": "socketio"},
    }


def _start_web(var_dir: Path, secret: str) -> tuple:
    port = free_port()
    env = {
        **os.environ,
        endpoint_secret.ENV: secret,
        "PYTHONPATH": str(ROOT),
        "WEB_PORT": str(port),
        "SHOP_VAR_DIR": str(var_dir),
        "SHOP_NOTICE_INTERVAL": "0",
    }
    log = (var_dir / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the web app did not start: " + (var_dir / "web.log").read_text()[-1000:])


def _post(url: str, body: Dict, secret: str) -> Dict:
    request = urllib.request.Request(
        f"{url}/nlg",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", endpoint_secret.HEADER: secret},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _percentiles(samples: List[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1000:6.2f} ms   p95 {cuts[94] * 1000:6.2f} ms"


def main() -> None:
    """Measure and print."""
    secret = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp:
        process, url = _start_web(Path(tmp), secret)
        try:
            try:
                _post(url, _body("default", "utter_greet"), "")
                raise SystemExit("/nlg answered a request without the endpoint secret")
            except urllib.error.HTTPError as refused:
                if refused.code != 401:
                    raise
            for persona in PERSONA_IDS:  # warm-up: first reads of every persona file
                _post(url, _body(persona, "utter_greet"), secret)
            overall: List[float] = []
            print(f"/nlg over HTTP, {ROUNDS} requests per persona, tracker of 40 events")
            for persona in PERSONA_IDS:
                samples = []
                for index in range(ROUNDS):
                    body = _body(persona, RESPONSES[index % len(RESPONSES)])
                    started = time.perf_counter()
                    _post(url, body, secret)
                    samples.append(time.perf_counter() - started)
                overall += samples
                print(f"  {persona:8} {_percentiles(samples)}")
            print(f"  {'all':8} {_percentiles(overall)}")
        finally:
            process.terminate()
            process.wait(timeout=10)
    renderer = Renderer(store=PersonaStore())
    local = []
    for index in range(ROUNDS * 5):
        persona = PERSONA_IDS[index % len(PERSONA_IDS)]
        body = _body(persona, RESPONSES[index % len(RESPONSES)])
        started = time.perf_counter()
        renderer.render(body)
        local.append(time.perf_counter() - started)
    print(f"in-process render        {_percentiles(local)}")
    print()
    print(f"One answer in every persona ({TABLE_RESPONSE}):")
    print()
    print("| persona | answer |")
    print("|---|---|")
    for persona in PERSONA_IDS:
        text = renderer.render(_body(persona, TABLE_RESPONSE))["text"]
        name = renderer.store.get(persona).name
        print(f"| `{persona}` {name} | {text.replace('|', '｜')} |")


if __name__ == "__main__":
    main()
