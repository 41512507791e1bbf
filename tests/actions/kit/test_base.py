"""The shared action base: whatever fails inside an action, the customer gets an apology.

Real actions on the after-sale test shop, with one function replaced to fail as a bug would
(no ShopAction subclass here: the SDK would register it).
"""

import logging

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from actions.aftersale import returns
from actions.aftersale.returns import ActionRequestReturn
from shop import db
from shop.db import session_scope
from shop.db.models import ReturnRequest
from tests.actions.aftersale_shop import build_aftersale_shop, order_slots, run, tracker

SECRET = "杭州市西湖区文三路388号 13812345678"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def failing(error):
    def fail(*args, **kwargs):
        raise error

    return fail


def request_return(caplog):
    slots = order_slots("fresh", return_reason=SECRET)
    with caplog.at_level(logging.ERROR, logger="actions.kit.base"):
        return run(ActionRequestReturn(), tracker(slots, text=SECRET))


def return_rows():
    with session_scope() as s:
        return s.execute(select(ReturnRequest.id)).scalars().all()


@pytest.mark.parametrize(
    "error", [ValueError(SECRET), KeyError(SECRET), RuntimeError(SECRET)], ids=type
)
def test_any_exception_gets_the_apology_and_a_human(shop, monkeypatch, caplog, error):
    before = return_rows()
    monkeypatch.setattr(returns.repo, "create_return", failing(error))
    messages, events = request_return(caplog)
    assert [m["response"] for m in messages] == ["utter_shop_unavailable"]
    assert events == [SlotSet("handoff_reason", "system_error")]
    assert return_rows() == before
    [record] = [r for r in caplog.records if r.name == "actions.kit.base"]
    assert "action_request_return" in record.getMessage()
    assert type(error).__name__ in record.getMessage()
    assert record.exc_info is None  # no traceback carrying the exception's message
    assert "文三路" not in caplog.text and "13812345678" not in caplog.text


def test_a_reply_queued_before_the_failure_is_withdrawn(shop, monkeypatch, caplog):
    before = return_rows()
    # SlotSet is built after utter_return_created was queued and the row was written
    monkeypatch.setattr(returns, "SlotSet", failing(TypeError(SECRET)))
    messages, events = request_return(caplog)
    assert [m["response"] for m in messages] == ["utter_shop_unavailable"]
    assert [e["value"] for e in events] == ["system_error"]
    assert return_rows() == before  # the return it announced was rolled back


def test_a_database_error_still_gets_the_same_apology(shop, monkeypatch, caplog):
    error = OperationalError("SELECT 1", {}, Exception("database is locked"))
    monkeypatch.setattr(returns.repo, "create_return", failing(error))
    messages, events = request_return(caplog)
    assert [m["response"] for m in messages] == ["utter_shop_unavailable"]
    assert events == [SlotSet("handoff_reason", "system_error")]
    assert "OperationalError" in caplog.text and "文三路" not in caplog.text
