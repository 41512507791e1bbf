"""The one rule of who is signed in, and signatures that are valid for one use only."""

import pytest

from shop import signing
from shop.signing import (
    ChatSignature,
    conversation_id_for,
    customer_from_metadata,
    labelled_mac,
    proven_metadata,
    read_chat_signature,
    same_mac,
    sign_chat,
    signed_in_customer,
)

KEY = "k" * 32
T0 = 1_000_000  # a fixed clock: nothing here depends on today's date
TTL = signing.DEFAULT_CHAT_SIGNATURE_TTL
CONVERSATION = conversation_id_for(7, KEY)


def chat(customer_id=7, conversation=CONVERSATION, key=KEY, generation=0, now=T0):
    return {
        "customer_id": customer_id,
        "customer_sig": sign_chat(customer_id, conversation, key, generation, now=now),
    }


def proven(customer_id=7, conversation=CONVERSATION, key=KEY, issued=T0):
    return proven_metadata(customer_id, conversation, key, issued)


def user(metadata=None, text="hi", at=T0 + 10):
    return {"event": "user", "text": text, "metadata": metadata or {}, "timestamp": at}


def external():
    return {"event": "user", "text": "/EXTERNAL_ship", "metadata": {"is_external": True}}


def test_a_chat_signature_names_customer_time_generation_and_conversation():
    found = read_chat_signature(chat(generation=4), CONVERSATION, KEY, now=T0 + 60)
    assert found == ChatSignature(7, CONVERSATION, T0, 4)
    upper = {**chat(), "customer_sig": chat()["customer_sig"].upper()}
    assert read_chat_signature(upper, CONVERSATION, KEY, now=T0) is not None


def test_a_chat_signature_expires_and_is_worthless_elsewhere():
    assert read_chat_signature(chat(), CONVERSATION, KEY, now=T0 + TTL) is not None
    assert read_chat_signature(chat(), CONVERSATION, KEY, now=T0 + TTL + 1) is None
    assert read_chat_signature(chat(), CONVERSATION, KEY, now=T0 + 3600, ttl=1800) is None
    assert read_chat_signature(chat(), CONVERSATION, KEY, now=T0 - 3600) is None  # from the future
    assert read_chat_signature(chat(), conversation_id_for(8, KEY), KEY, now=T0) is None
    assert read_chat_signature(chat(), CONVERSATION, "other", now=T0) is None
    assert read_chat_signature(chat(), CONVERSATION, "", now=T0) is None
    moved = {"customer_id": 8, "customer_sig": chat()["customer_sig"]}
    assert read_chat_signature(moved, CONVERSATION, KEY, now=T0) is None
    issued, generation, mac = chat()["customer_sig"].split(".")
    lifted = {"customer_id": 7, "customer_sig": f"{int(issued) + 3600}.{generation}.{mac}"}
    assert read_chat_signature(lifted, CONVERSATION, KEY, now=T0) is None
    later_generation = {"customer_id": 7, "customer_sig": f"{issued}.1.{mac}"}
    assert read_chat_signature(later_generation, CONVERSATION, KEY, now=T0) is None
    # the permanent signature of old (the bare HMAC of the id) is no chat signature any more
    bare = {"customer_id": 7, "customer_sig": labelled_mac(KEY, b"x", "7")}
    assert read_chat_signature(bare, CONVERSATION, KEY, now=T0) is None


def test_the_lifetime_is_a_setting(monkeypatch):
    monkeypatch.delenv(signing.CHAT_SIGNATURE_TTL_ENV, raising=False)
    assert signing.chat_signature_ttl() == 12 * 3600
    monkeypatch.setenv(signing.CHAT_SIGNATURE_TTL_ENV, "600")
    assert signing.chat_signature_ttl() == 600
    assert read_chat_signature(chat(), CONVERSATION, KEY, now=T0 + 601) is None
    for bad in ("", "0", "-5", "soon"):
        monkeypatch.setenv(signing.CHAT_SIGNATURE_TTL_ENV, bad)
        assert signing.chat_signature_ttl() == 12 * 3600


def test_a_stored_proof_proves_its_customer_in_its_conversation_only():
    assert customer_from_metadata(proven(), KEY, CONVERSATION) == 7
    assert customer_from_metadata(proven(), KEY, CONVERSATION, sent_at=T0 + 5) == 7
    assert customer_from_metadata(proven(), KEY, conversation_id_for(8, KEY)) is None
    assert customer_from_metadata(proven(), KEY) is None  # no conversation: nobody signed in
    assert customer_from_metadata(proven(), "other", CONVERSATION) is None
    assert customer_from_metadata(proven(), "", CONVERSATION) is None
    assert customer_from_metadata({"customer_id": 7}, KEY, CONVERSATION) is None
    moved = {**proven(), "customer_id": 8}
    assert customer_from_metadata(moved, KEY, CONVERSATION) is None
    assert customer_from_metadata("customer_id=7", KEY, CONVERSATION) is None
    # a message sent long after the signature was issued is not signed in
    assert customer_from_metadata(proven(), KEY, CONVERSATION, sent_at=T0 + TTL + 1) is None


def test_a_chat_signature_is_no_proof_and_a_proof_no_chat_signature():
    signature = chat()
    assert (
        customer_from_metadata(
            {"customer_id": 7, "customer_proof": signature["customer_sig"]}, KEY, CONVERSATION
        )
        is None
    )
    assert customer_from_metadata(signature, KEY, CONVERSATION) is None
    as_sig = {"customer_id": 7, "customer_sig": proven()["customer_proof"]}
    assert read_chat_signature(as_sig, CONVERSATION, KEY, now=T0) is None


@pytest.mark.parametrize("bad", [True, 1.5, None, ["1"], "1 OR 1=1", 10**30, 0, -3])
def test_malformed_ids_are_anonymous(bad):
    metadata = {**proven(), "customer_id": bad}
    assert customer_from_metadata(metadata, KEY, CONVERSATION) is None
    assert read_chat_signature({**chat(), "customer_id": bad}, CONVERSATION, KEY, now=T0) is None


def test_the_newest_customer_message_decides():
    assert signed_in_customer([user(proven(3, CONVERSATION))], KEY, CONVERSATION) == 3
    assert signed_in_customer([user(proven(3, CONVERSATION))], KEY) is None
    assert signed_in_customer([user(proven(3, CONVERSATION))], KEY, "c-other") is None
    # a later unsigned message from the same conversation is anonymous again
    events = [user(proven(3, CONVERSATION)), user()]
    assert signed_in_customer(events, KEY, CONVERSATION) is None
    # a forged later message does not borrow the earlier identity
    forged = proven_metadata(4, CONVERSATION, "forger", T0)
    assert signed_in_customer([user(proven(3)), user(forged)], KEY, CONVERSATION) is None
    # bot turns and external events (proactive notices) do not change who is signed in
    events = [user(proven(3)), {"event": "bot", "text": "好的"}, external()]
    assert signed_in_customer(events, KEY, CONVERSATION) == 3
    assert signed_in_customer([], KEY, CONVERSATION) is None
    # a message sent after the signature's lifetime is anonymous
    late = [user(proven(3), at=T0 + TTL + 5)]
    assert signed_in_customer(late, KEY, CONVERSATION) is None


def test_signatures_of_one_use_are_not_valid_for_another():
    cookie = labelled_mac(KEY, b"web-session-cookie", "7.1700000000")
    assert cookie != labelled_mac(KEY, b"agent-console-session", "7.1700000000")
    assert labelled_mac(KEY, b"x", "7") == labelled_mac(KEY, b"x", b"7")
    assert conversation_id_for(7, KEY).startswith("c-") and conversation_id_for(7, KEY) != (
        conversation_id_for(8, KEY)
    )


def test_same_mac_compares_hex_case_insensitively_and_refuses_others():
    mac = labelled_mac(KEY, b"x", "1")
    assert same_mac(mac, f" {mac.upper()} ")
    assert not same_mac(mac, mac[:-1] + ("0" if mac[-1] != "0" else "1"))


def test_the_key_is_read_from_the_environment_when_asked(monkeypatch):
    monkeypatch.delenv(signing.SIGNING_KEY_ENV, raising=False)
    assert signing.signing_key() == ""
    monkeypatch.setenv(signing.SIGNING_KEY_ENV, KEY)
    assert signing.signing_key() == KEY
