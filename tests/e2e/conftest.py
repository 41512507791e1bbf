"""Starts the real action server and Rasa server once for the end-to-end tests."""

import contextlib
import json
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from bot import processes
from bot.settings import ROOT, Settings
from shop.text.normalise import to_simplified

pytestmark = pytest.mark.e2e


class Assistant:
    """Talks to the running Rasa server over the REST channel and the HTTP API.

    It remembers the script each customer last wrote in (the rule of bot/nlg/script.py), so
    the `responses` fixture can give the default texts in the script the assistant must answer in.
    """

    def __init__(self, settings: Settings, children=()):
        self.settings = settings
        self.children = {child.name: child for child in children}
        self.scripts = {}
        self.last_sender = None

    def _post(self, path: str, body: dict) -> object:
        request = urllib.request.Request(
            f"{self.settings.rasa_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list:
        """Sends a message as the customer and returns the bot's replies."""
        from bot.nlg.script import script_of

        self.last_sender = sender
        self.scripts[sender] = script_of(text) or self.scripts.get(sender, "simplified")
        body = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        return self._post("/webhooks/rest/webhook", body)

    def script(self, sender: str | None = None) -> str:
        """The script the customer (by default the last one who spoke) is answered in."""
        return self.scripts.get(sender or self.last_sender, "simplified")

    def trigger(self, sender: str, intent: str, entities: dict) -> dict:
        """Triggers an external event in a conversation, as the notice job does."""
        path = f"/conversations/{sender}/trigger_intent?token={self.settings.rasa_token}"
        return self._post(path + "&output_channel=latest", {"name": intent, "entities": entities})

    def tracker(self, sender: str) -> dict:
        """The conversation's tracker from the token-protected HTTP API."""
        url = f"{self.settings.rasa_url}/conversations/{sender}/tracker?token={self.settings.rasa_token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())


def texts(replies) -> list:
    """The texts of the replies (a product, order or parcel card comes as a reply of its own)."""
    return [reply["text"] for reply in replies if reply.get("text")]


def bot_texts(tracker: dict) -> list:
    """The texts of the bot's messages in a tracker, None for one without text (a card)."""
    return [e.get("text") for e in tracker["events"] if e["event"] == "bot"]


def shows_notice(texts_shown: list, notice) -> bool:
    """Whether one of the texts holds every fact of the notice longer than three characters.

    Read in Simplified: a notice speaks the conversation's script, and a customer who wrote
    Traditional gets it in Traditional.
    """
    facts = [str(v) for v in notice.facts.values() if len(str(v)) > 3]
    return bool(facts) and any(
        all(fact in to_simplified(text) for fact in facts) for text in texts_shown if text
    )


def cards(replies) -> list:
    """The custom payload cards among the replies."""
    return [reply["custom"] for reply in replies if isinstance(reply.get("custom"), dict)]


def stack_settings(var_dir: Path, endpoints: Path) -> Settings:
    """Settings for a test stack on free ports with fresh secrets and the newest model."""
    try:
        return processes.throwaway_settings(var_dir, endpoints)
    except FileNotFoundError as missing:
        pytest.fail(str(missing))


@contextlib.contextmanager
def running_stack(settings: Settings):
    """Seeds the demo shop (SHOP_DATABASE_URL, or SQLite in the settings' var dir) and runs
    the web app, action server and Rasa server until the block ends."""
    with processes.seeded_stack(settings, Path(settings.var_dir) / "logs") as children:
        yield Assistant(settings, children)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    settings = stack_settings(tmp_path_factory.mktemp("var"), ROOT / "endpoints.yml")
    with running_stack(settings) as running:
        yield running


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4().hex[:12]}"


class ScriptedResponses(Mapping):
    """The domain's default texts by name, in the script of the customer who spoke last.

    The default persona speaks exactly these texts; a customer who writes Traditional Chinese
    gets them converted to Traditional (bot/nlg/script.py), so index after `assistant.say`.
    """

    def __init__(self, texts: dict, assistant: Assistant):
        self._texts = texts
        self._assistant = assistant

    def __getitem__(self, name: str) -> list:
        from bot.nlg.script import to_script

        script = self._assistant.script()
        return [to_script(text, script) for text in self._texts[name]]

    def __iter__(self):
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


@pytest.fixture(scope="session")
def responses(assistant):
    """Default texts of every response in the domain, by name (see ScriptedResponses)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = {name: [v["text"] for v in variants] for name, variants in domain["responses"].items()}
    return ScriptedResponses(texts, assistant)


@pytest.fixture(scope="session")
def shop_order(assistant):
    """A shipped demo order with its buyer's phone tail, read from the seeded database."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from shop.db.models import Customer, Order

    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    with Session(engine) as session:
        order, tail = session.execute(
            select(Order, Customer.phone_tail)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.state == "shipped")
            .order_by(Order.order_number)
        ).first()
        return {"order_id": order.order_number, "phone_tail": tail, "state": order.state}
