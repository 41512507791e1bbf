"""Helpers shared by the tests of the pre-sale, service and membership actions."""

import asyncio
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from rasa_sdk import Tracker
from sqlalchemy import select

from shop.db import session_scope
from shop.db.models import Customer
from shop.demo.seed import DEMO_NOW
from shop.signing import proven_metadata
from tests.actions.conftest import make_tracker

KEY = "test-signing-key"


def tracker(
    text: str = "",
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    customer_id: Optional[int] = None,
    entities: Optional[list] = None,
) -> Tracker:
    """A tracker whose latest message may carry a signed customer id."""
    metadata = {}
    if customer_id is not None:
        metadata = proven_metadata(customer_id, "customer-1", KEY)
    return make_tracker(text, intent, slots, entities=entities, metadata=metadata)


def run_action(action, dispatcher, track: Tracker):
    """Run an action and return its events."""
    return asyncio.run(action.run(dispatcher, track, {}))


@lru_cache(maxsize=1)
def domain_texts() -> Dict[str, str]:
    """The default text of every response in domain.yml."""
    domain = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text("utf-8"))
    return {name: variants[0]["text"] for name, variants in domain["responses"].items()}


def rendered(response: str, facts: Dict[str, Any]) -> str:
    """The response's default text filled with the facts, as Rasa fills it."""
    text = domain_texts()[response]
    names = set(re.findall(r"{([^\n{}]+?)}", text))
    missing = names - set(facts)
    assert not missing, f"{response} lacks facts {missing}"
    empty = {name for name in names if facts[name] is None}
    assert not empty, f"{response} has facts without value: {empty}"
    return re.sub(r"{([^\n{}]+?)}", lambda m: str(facts[m.group(1)]), text)


def only_message(dispatcher):
    """The single message sent: a response name with facts, never literal text.

    The response must exist in the domain and every placeholder of its text must get a fact.
    """
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"] is None
    rendered(message["response"], message)
    return message["response"], message


def at_demo_time(monkeypatch):
    """Freeze the shop clock at the moment the demo shop was seeded, and set the signing key."""
    monkeypatch.setattr("shop.clock.now", lambda: DEMO_NOW)
    monkeypatch.setenv("SHOP_SIGNING_KEY", KEY)


def first_customer(engine, *conditions) -> Customer:
    """The first customer (by id) meeting the conditions."""
    with session_scope(engine) as session:
        stmt = select(Customer).where(*conditions).order_by(Customer.id).limit(1)
        return session.execute(stmt).scalars().one()
