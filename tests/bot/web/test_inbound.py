"""Typed text never becomes a command: checked against Rasa's own command unpacking."""

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normaliser import ChineseTextNormalizer
from bot.web.inbound import DOMAIN_FILE, customer_intents, guarded_command

WIDGET_COMMANDS = [
    "/greet",
    "/request_human",
    "/choose_persona",
    '/choose_persona{"persona":"crazy"}',
    '/choose_persona{"persona": "advisor"}',
    '/ask_installation{"product": "厨匠顶吸式油烟机T7"}',
]
TYPED = [
    "/restart",
    "/session_start",
    "/EXTERNAL_shipping_notice",
    "  /restart",  # leading blanks: the normaliser runs, and Rasa strips them
    "／restart",  # full-width: the NLU normaliser folds it into "/"
    "\u3000／ｒｅｓｔａｒｔ",
    '/inform{"phone_tail": "1234"}',
    '/choose_persona{"persona": "<script>alert(1)</script>"}',
    '/choose_persona{"persona": {"id": "crazy"}}',
    '/choose_persona{"persona": "crazy", "order_id": "2024112300123"}',
    '/check_order_status{"order_id": "2024112300123"}',
    '/ask_gift{"product": {"name": "T7"}}',
    '/ask_gift{"product": "T7", "phone_tail": "1234"}',
    '/EXTERNAL_installation_reminder{"product": "T7"}',
    "/greet@0.1",
    "/choose_persona{not json}",
]


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(DOMAIN_FILE))


def rasa_reads(text, domain):
    """The intent Rasa's pipeline ends with for this text: normaliser first, command unpacking last."""
    message = Message({"text": text})
    ChineseTextNormalizer().process([message])
    unpacked = YAMLStoryReader.unpack_regex_message(message, domain)
    return (unpacked.get("intent") or {}).get("name")


@pytest.mark.parametrize("text", WIDGET_COMMANDS)
def test_what_the_widget_and_quick_replies_send_stays_a_command(text, domain):
    assert guarded_command(text) == text
    assert rasa_reads(guarded_command(text), domain) == text[1:].split("{")[0]


@pytest.mark.parametrize("text", TYPED)
def test_anything_else_starting_with_a_slash_is_read_as_text(text, domain):
    if "{not json}" not in text:  # without the guard, Rasa would have read a command
        assert rasa_reads(text, domain) is not None
    guarded = guarded_command(text)
    assert rasa_reads(guarded, domain) is None
    # the customer's words are kept: only the slash is changed, or a division slash put in front
    assert guarded in (text.replace("/", "\u2215", 1), "\u2215" + text)


def test_ordinary_text_is_untouched_and_external_intents_are_never_commands():
    for text in ("我要退货", "价格是 1/2 吗", "EXTERNAL_shipping_notice", " "):
        assert guarded_command(text) == text
    intents = customer_intents()
    assert "greet" in intents and "inform" in intents
    assert not any(name.startswith("EXTERNAL_") for name in intents)


@pytest.mark.parametrize("value", [42, "42"])
def test_the_product_page_the_customer_is_on_is_passed_on(value):
    import asyncio

    from bot.web.inbound import claim

    kept = asyncio.run(claim("rest-visitor", {"page_product_id": value, "x": 1}, "k" * 32))
    assert kept.metadata == {"page_product_id": 42}


@pytest.mark.parametrize("value", [0, -3, True, 1.5, "4a", "9" * 10, {"id": 4}, None])
def test_a_product_page_that_is_no_id_is_dropped(value):
    import asyncio

    from bot.web.inbound import claim

    kept = asyncio.run(claim("rest-visitor", {"page_product_id": value}, "k" * 32))
    assert "page_product_id" not in kept.metadata
