"""A seeded demo shop per test and a deliverer that records what it is asked to send."""

import shutil
from zoneinfo import ZoneInfo

import pytest

from actions import seed
from actions.db import make_engine
from bot.notices.delivery import Deliverer, DeliveryError

TZ = ZoneInfo("Asia/Shanghai")
KEY = "notice-test-key"


class Recorder(Deliverer):
    """Keeps every delivery; fails while `failing` is set."""

    def __init__(self, failing: bool = False):
        self.calls = []
        self.failing = failing

    def deliver(self, conversation_id, intent, facts):
        if self.failing:
            raise DeliveryError("Rasa answered 500")
        self.calls.append((conversation_id, intent, dict(facts)))


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
