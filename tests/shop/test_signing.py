"""The one rule of who is signed in, and signatures that are valid for one use only."""

import pytest

from shop import signing
from shop.signing import (
    conversation_id_for,
    customer_from_metadata,
    labelled_mac,
    same_mac,
    sign_customer_id,
    signed_in_customer,
)

KEY = "k" * 32


def signed(customer_id, key=KEY):
    return {"customer_id": customer_id, "customer_sig": sign_customer_id(customer_id, key)}


def user(metadata=None, text="hi"):
    return {"event": "user", "text": text, "metadata": metadata or {}}


def external():
    return {"event": "user", "text": "/EXTERNAL_ship", "metadata": {"is_external": True}}


def test_a_signed_message_proves_its_customer_and_nothing_else_does():
    assert customer_from_metadata(signed(7), KEY) == 7
    assert (
        customer_from_metadata(
            {**signed(7), "customer_sig": signed(7)["customer_sig"].upper()}, KEY
        )
        == 7
    )
    assert customer_from_metadata(signed(7, "other"), KEY) is None
    assert customer_from_metadata({"customer_id": 7}, KEY) is None
    assert (
        customer_from_metadata({"customer_id": 8, "customer_sig": signed(7)["customer_sig"]}, KEY)
        is None
    )
    assert customer_from_metadata(signed(7), "") is None
    assert customer_from_metadata("customer_id=7", KEY) is None


@pytest.mark.parametrize("bad", [True, 1.5, None, ["1"], "1 OR 1=1", 10**30, 0, -3])
def test_malformed_ids_are_anonymous(bad):
    metadata = {"customer_id": bad, "customer_sig": sign_customer_id(bad, KEY)}
    assert customer_from_metadata(metadata, KEY) is None


def test_the_newest_customer_message_decides():
    assert signed_in_customer([user(signed(3))], KEY) == 3
    # a later unsigned message from the same conversation is anonymous again
    assert signed_in_customer([user(signed(3)), user()], KEY) is None
    # a forged later message does not borrow the earlier identity
    assert signed_in_customer([user(signed(3)), user(signed(4, "forger"))], KEY) is None
    # bot turns and external events (proactive notices) do not change who is signed in
    events = [user(signed(3)), {"event": "bot", "text": "好的"}, external()]
    assert signed_in_customer(events, KEY) == 3
    assert signed_in_customer([], KEY) is None


def test_signatures_of_one_use_are_not_valid_for_another():
    cookie = labelled_mac(KEY, b"web-session-cookie", "7.1700000000")
    assert cookie != labelled_mac(KEY, b"agent-console-session", "7.1700000000")
    assert labelled_mac(KEY, b"x", "7") != sign_customer_id(7, KEY)
    assert labelled_mac(KEY, b"x", "7") == labelled_mac(KEY, b"x", b"7")
    assert conversation_id_for(7, KEY).startswith("c-") and conversation_id_for(7, KEY) != (
        conversation_id_for(8, KEY)
    )


def test_same_mac_compares_hex_case_insensitively_and_refuses_others():
    mac = sign_customer_id(1, KEY)
    assert same_mac(mac, f" {mac.upper()} ")
    assert not same_mac(mac, mac[:-1] + ("0" if mac[-1] != "0" else "1"))


def test_the_key_is_read_from_the_environment_when_asked(monkeypatch):
    monkeypatch.delenv(signing.SIGNING_KEY_ENV, raising=False)
    assert signing.signing_key() == ""
    monkeypatch.setenv(signing.SIGNING_KEY_ENV, KEY)
    assert signing.signing_key() == KEY
