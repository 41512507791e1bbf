from typing import Any, Dict, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    text: str = "",
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[list] = None,
    entities: Optional[list] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
    }
    return Tracker("customer-1", slots or {}, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()
