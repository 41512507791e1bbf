import shutil
from typing import Any, Dict, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from shop import db
from shop.db import make_engine
from shop.db.models import Order
from shop.demo import seed


def make_tracker(
    text: str = "",
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[list] = None,
    entities: Optional[list] = None,
    metadata: Optional[Dict[str, Any]] = None,
    events: Optional[list] = None,
) -> Tracker:
    """A tracker whose latest message has the text, intent, entities and channel metadata."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        "customer-1", slots or {}, latest, events or [], False, None, {}, "action_listen"
    )


def order_row(number, customer, state, created, total, **extra) -> Order:
    """An order of the customer at their address, paid in full without discount or fee."""
    return Order(
        order_number=number,
        customer=customer,
        state=state,
        created_at=created,
        items_total_fen=total,
        discount_fen=0,
        shipping_fee_fen=0,
        payable_fen=total,
        shipping_city=customer.city,
        address_masked=customer.address_masked,
        **extra,
    )


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory):
    """The demo shop seeded once per test module at the fixed demo time."""
    path = tmp_path_factory.mktemp("seed") / "shop.db"
    seed.run(f"sqlite:///{path}", seed.DEMO_NOW, demo=True, accounts=False)
    return path


@pytest.fixture
def shop(seeded_file, tmp_path, monkeypatch):
    """A fresh copy of the seeded shop per test, used by the actions through SHOP_DATABASE_URL."""
    path = tmp_path / "shop.db"
    shutil.copy(seeded_file, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    db.reset()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    db.reset()
