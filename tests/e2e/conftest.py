"""Starts the real action server and Rasa server once for the end-to-end tests."""

import json
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


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    models = ROOT / "models"
    if not list(models.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    var_dir = tmp_path_factory.mktemp("var")
    settings = Settings(
        host="127.0.0.1",
        rasa_port=15005,
        action_port=15055,
        rasa_token=uuid.uuid4().hex,
        var_dir=var_dir,
        models_dir=models,
        endpoints=ROOT / "endpoints.yml",
        credentials=ROOT / "credentials.yml",
    )
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
