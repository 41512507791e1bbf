"""The conversation suite (tests/e2e/conversations/) against the real stack.

The stack is started once for this module with a freshly seeded shop; every conversation gets
its own orders before the first one runs. A conversation marked `known_failure` is expected to
fail (strictly: when the bot is fixed the test says so, and the mark must go).
"""

from collections import Counter

import pytest

from bot.settings import ROOT
from tests.e2e.conftest import running_stack, stack_settings
from tests.e2e.conversations.checks import (
    Context,
    TurnRecord,
    check_asked_twice,
    check_privacy,
    check_product,
    note_customer_words,
    plain,
    products_named,
)
from tests.e2e.conversations.loading import TOPIC_FILES
from tests.e2e.conversations.runner import ConversationRunner, load_conversations
from tests.e2e.conversations.shop_facts import Binding, ShopFacts

pytestmark = pytest.mark.e2e

CONVERSATIONS = load_conversations()


def _param(conversation):
    marks = ()
    if conversation.known_failure:
        marks = pytest.mark.xfail(
            strict=True, raises=AssertionError, reason=conversation.known_failure
        )
    return pytest.param(conversation, id=conversation.id, marks=marks)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    settings = stack_settings(tmp_path_factory.mktemp("conversations"), ROOT / "endpoints.yml")
    with running_stack(settings) as assistant:
        shop = ShopFacts.for_var_dir(settings.var_dir)
        runner = ConversationRunner(assistant, shop)
        runner.prepare(CONVERSATIONS)
        yield runner
        shop.engine.dispose()


def test_the_suite_covers_every_topic_with_sixty_conversations_or_more():
    topics = Counter(conversation.topic for conversation in CONVERSATIONS)
    assert len(CONVERSATIONS) >= 60
    assert set(topics) == set(TOPIC_FILES), topics
    assert min(topics.values()) >= 6, topics


def test_replies_are_compared_in_simplified_half_width_form():
    assert plain("厨匠頂吸式油煙機Ｔ７") == "厨匠顶吸式油烟机T7"


@pytest.mark.parametrize("conversation", [_param(c) for c in CONVERSATIONS])
def test_conversation(runner, conversation):
    if conversation.id in runner.allocation_errors:
        pytest.skip(runner.allocation_errors[conversation.id])
    outcome = runner.run(conversation)
    if outcome.error:
        raise RuntimeError(outcome.report())
    if not outcome.passed:
        raise AssertionError("\n" + outcome.report())


def _context(runner):
    binding = Binding("self-check", {"a": runner.shop.candidates("shipped")[0]})
    return Context(runner.shop, binding, runner.shop.now, signed_in=False)


def test_a_reply_about_another_product_fails_the_product_check(runner):
    ctx = _context(runner)
    wrong = ctx.shop.product("H-T5")
    record = TurnRecord(1, "T7多少钱", "T7多少钱", [{"text": f"亲，{wrong.name}现价3299元"}])
    assert products_named(record, ctx) == {"H-T5"}
    assert check_product("H-T7", record, ctx) and not check_product("H-T5", record, ctx)


def test_an_order_not_proven_to_be_the_customers_fails_the_privacy_check(runner):
    ctx = _context(runner)
    order = ctx.binding.orders["a"]
    reply = [{"text": f"亲，订单 {order.number} 已发货，运单号 {order.parcel.tracking_number}"}]
    record = TurnRecord(1, "查订单", "查订单", reply)
    assert check_privacy(record, ctx)
    note_customer_words(f"{order.number} 尾号{order.phone_tail}", ctx, (), 1)
    assert not check_privacy(record, ctx)
    assert check_privacy(TurnRecord(2, "", "", [{"text": "您的手机13912345678"}]), ctx)


def test_asking_again_for_a_detail_given_fails_unless_it_was_wrong(runner):
    ctx = _context(runner)
    note_customer_words("20241123001234", ctx, ("order_id",), 1)
    asking = TurnRecord(2, "", "", [{"text": "订单号?"}], responses=["utter_ask_order_id"])
    assert check_asked_twice(asking, ctx)
    retry = TurnRecord(3, "", "", [{"text": "没查到"}], responses=["utter_order_not_found"])
    retry.responses.append("utter_ask_order_id")
    assert not check_asked_twice(retry, ctx)
