"""Starts the real action server and Rasa server once for the end-to-end tests."""

import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from bot import processes
from bot.settings import ROOT, Settings

pytestmark = pytest.mark.e2e


class Assistant:
    """Talks to the running Rasa server over the REST channel and the HTTP API."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def _post(self, path: str, body: dict) -> object:
        request = urllib.request.Request(
            f"{self.settings.rasa_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def say(self, sender: str, text: str) -> list:
        """Sends a message as the customer and returns the bot's replies."""
        return self._post("/webhooks/rest/webhook", {"sender": sender, "message": text})

    def tracker(self, sender: str) -> dict:
        """The conversation's tracker from the token-protected HTTP API."""
        url = f"{self.settings.rasa_url}/conversations/{sender}/tracker?token={self.settings.rasa_token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())


def free_port() -> int:
    """A TCP port nobody listens on now, so parallel test runs do not collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    models = ROOT / "models"
    if not list(models.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    var_dir = tmp_path_factory.mktemp("var")
    settings = Settings(
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        rasa_token=uuid.uuid4().hex,
        signing_key=uuid.uuid4().hex,
        var_dir=var_dir,
        models_dir=models,
        endpoints=ROOT / "endpoints.yml",
        credentials=ROOT / "credentials.yml",
    )
    seed = subprocess.run(
        [sys.executable, "-m", "actions.seed"],
        cwd=ROOT,
        env={**os.environ, "SHOP_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert seed.returncode == 0, seed.stderr[-2000:]
    children = processes.stack(settings, Path(var_dir) / "logs")
    processes.start_all(children, timeout=300)
    yield Assistant(settings)
    processes.stop_all(children)


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def responses():
    """Default texts of every response in the domain, by name."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {name: [v["text"] for v in variants] for name, variants in domain["responses"].items()}


@pytest.fixture(scope="session")
def shop_order(assistant):
    """A shipped demo order with its buyer's phone tail, read from the seeded database."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from actions.models import Customer, Order

    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    with Session(engine) as session:
        order, tail = session.execute(
            select(Order, Customer.phone_tail)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.state == "shipped")
            .order_by(Order.order_number)
        ).first()
        return {"order_id": order.order_number, "phone_tail": tail, "state": order.state}
