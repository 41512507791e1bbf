"""A seeded demo shop per test and a deliverer that records what it is asked to send."""

import shutil
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.notices.delivery import Deliverer, DeliveryError
from shop.db import make_engine
from shop.demo import seed

TZ = ZoneInfo("Asia/Shanghai")
KEY = "notice-test-key"


class Recorder(Deliverer):
    """Keeps every delivery and remembers it as a conversation would.

    `failing`: nothing is delivered (Rasa answered 500). `lose_reply`: delivered, but the answer
    never comes (a timeout). `dies`: the process dies during the delivery, after it when
    `lose_reply` is set too. `on_deliver` is called with each delivery (e.g. to move a clock).
    `held`: the conversations an agent holds.
    """

    def __init__(self, failing=False, lose_reply=False, dies=False, on_deliver=None):
        self.held = set()
        self.calls = []
        self.delivered_ids = []
        self.checks = []
        self.conversations = {}  # (conversation id, intent, notice id) -> delivered at
        self.failing = failing
        self.lose_reply = lose_reply
        self.dies = dies
        self.on_deliver = on_deliver

    def deliver(self, conversation_id, intent, facts, notice_id=None):
        if self.on_deliver is not None:
            self.on_deliver(conversation_id, intent, notice_id)
        if self.failing:
            raise DeliveryError("Rasa answered 500")
        if self.dies and not self.lose_reply:
            raise KeyboardInterrupt
        self.calls.append((conversation_id, intent, dict(facts)))
        self.delivered_ids.append(notice_id)
        self.conversations[(conversation_id, intent, notice_id)] = datetime.now(timezone.utc)
        if self.dies:
            raise KeyboardInterrupt
        if self.lose_reply:
            raise DeliveryError("Rasa did not answer within 30 s")

    def held_by_a_person(self, conversation_id):
        return conversation_id in self.held

    def delivered_at(self, conversation_id, intent, notice_id):
        self.checks.append((conversation_id, intent, notice_id))
        return self.conversations.get((conversation_id, intent, notice_id))


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("notices") / "shop.db"
    seed.run(f"sqlite:///{path}", seed.DEMO_NOW, demo=True, accounts=False)
    return path


@pytest.fixture
def shop_url(seeded_file, tmp_path):
    path = tmp_path / "shop.db"
    shutil.copy(seeded_file, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(shop_url):
    engine = make_engine(shop_url)
    yield engine
    engine.dispose()
