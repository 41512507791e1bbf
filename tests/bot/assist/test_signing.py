"""The signature the web app puts on its requests to the Rasa server's assist endpoints."""

import json

import pytest

from bot.assist.signing import body_signed, sign_body
from shop import assist_mode
from shop.signing import PROOF_KEY, proven_metadata, sign_chat

KEY = "assist-test-key"
BODY = json.dumps({"conversation_id": "c-1", "authority_fen": 5000}, ensure_ascii=False).encode()


def test_a_signed_body_verifies_under_the_same_key():
    signature = sign_body(BODY, KEY)
    assert len(signature) == 64 and int(signature, 16) >= 0
    assert body_signed(BODY, signature, KEY)


def test_the_signature_is_read_whatever_its_case_and_surrounding_blanks():
    assert body_signed(BODY, f"  {sign_body(BODY, KEY).upper()}\n", KEY)


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"5000", b"50000"),  # a raised authority
        BODY.replace(b"c-1", b"c-2"),  # another conversation
        BODY + b" ",
        b"",
    ],
)
def test_any_change_to_the_body_breaks_the_signature(tampered):
    assert not body_signed(tampered, sign_body(BODY, KEY), KEY)


def test_another_key_or_no_key_verifies_nothing():
    assert not body_signed(BODY, sign_body(BODY, "another-key"), KEY)
    assert not body_signed(BODY, sign_body(BODY, ""), "")
    assert not body_signed(BODY, "", KEY)
    assert not body_signed(BODY, sign_body(BODY, KEY)[:-1], KEY)


def test_the_body_signature_is_good_for_nothing_else():
    """A key derived for request bodies: no other signature under the shop key is one."""
    chat = sign_chat(7, "c-1", KEY, now=1_700_000_000).rsplit(".", 1)[1]
    chat_content = b"7.1700000000.0.c-1"  # what the chat signature's MAC covers
    assert sign_body(chat_content, KEY) != chat
    assert not body_signed(chat_content, chat, KEY)
    proof = proven_metadata(7, "c-1", KEY, issued=1_700_000_000)[PROOF_KEY].rsplit(".", 1)[1]
    proof_content = b"7.1700000000.c-1"  # what the message proof's MAC covers
    assert sign_body(proof_content, KEY) != proof
    assert not body_signed(proof_content, proof, KEY)
    header = assist_mode.header_value("live", 5000, KEY).rsplit(".", 1)[1]
    assert not body_signed(b"live:5000", header, KEY)
