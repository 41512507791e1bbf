import asyncio

import pytest

from actions.kit.forms import (
    ValidateOrderLookupForm,
    ValidateProductForm,
    ValidateSizeAdviceForm,
    short_reply,
)
from actions.kit.order_forms import free_text_answer, message_text
from actions.orders.installation_booking import ValidateInstallationForm
from shop.signing import SIGNING_KEY_ENV
from tests.actions import presale_support
from tests.actions.conftest import make_tracker
from tests.actions.presale_support import KEY


def run(coroutine):
    return asyncio.run(coroutine)


def test_bare_order_number_is_taken_while_asked(dispatcher):
    tracker = make_tracker("２０２４１１２３００１２３", slots={"requested_slot": "order_id"})
    form = ValidateOrderLookupForm()
    assert run(form.extract_order_id(dispatcher, tracker, {})) == {"order_id": "2024112300123"}


def test_other_digits_are_not_taken_as_an_order_number_when_something_else_is_asked(dispatcher):
    tracker = make_tracker("12345", slots={"requested_slot": "phone_tail"})
    assert run(ValidateOrderLookupForm().extract_order_id(dispatcher, tracker, {})) == {}


def test_an_order_number_is_taken_whatever_was_asked(dispatcher):
    tracker = make_tracker("订单2024112300123", slots={"requested_slot": "phone_tail"})
    assert run(ValidateOrderLookupForm().extract_order_id(dispatcher, tracker, {})) == {
        "order_id": "2024112300123"
    }


def test_malformed_order_number_is_re_asked(dispatcher):
    result = ValidateOrderLookupForm().validate_order_id("12345", dispatcher, make_tracker(), {})
    assert result == {"order_id": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_order_id"


def test_five_digit_phone_tail_is_re_asked(dispatcher):
    tracker = make_tracker("88661", slots={"requested_slot": "phone_tail"})
    form = ValidateOrderLookupForm()
    extracted = run(form.extract_phone_tail(dispatcher, tracker, {}))
    assert extracted == {"phone_tail": "88661"}
    assert form.validate_phone_tail("88661", dispatcher, tracker, {}) == {"phone_tail": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_phone_tail"


def test_full_width_phone_tail_is_accepted(dispatcher):
    result = ValidateOrderLookupForm().validate_phone_tail(
        "８８６６", dispatcher, make_tracker(), {}
    )
    assert result == {"phone_tail": "8866"}


def test_height_and_weight_are_normalised(dispatcher):
    form = ValidateSizeAdviceForm()
    assert form.validate_height("一米七", dispatcher, make_tracker(), {}) == {"height": "170cm"}
    assert form.validate_weight("120斤", dispatcher, make_tracker(), {}) == {"weight": "60kg"}
    assert form.validate_weight("很重", dispatcher, make_tracker(), {}) == {"weight": None}
    assert dispatcher.messages[-1]["response"] == "utter_invalid_weight"


def test_bare_height_reply_is_taken(dispatcher):
    tracker = make_tracker("165", slots={"requested_slot": "height"})
    assert run(ValidateSizeAdviceForm().extract_height(dispatcher, tracker, {})) == {
        "height": "165"
    }


def test_a_no_is_not_taken_as_a_city(dispatcher):
    tracker = make_tracker("不用了", intent="deny", slots={"requested_slot": "city"})
    assert run(ValidateInstallationForm().extract_city(dispatcher, tracker, {})) == {}
    tracker = make_tracker("杭州", slots={"requested_slot": "city"})
    assert run(ValidateInstallationForm().extract_city(dispatcher, tracker, {})) == {"city": "杭州"}


def test_long_reply_is_not_taken_as_a_product(dispatcher):
    tracker = make_tracker(
        "我也不知道叫什么反正就是上次那个很好吃的东西", slots={"requested_slot": "product"}
    )
    assert run(ValidateProductForm().extract_product(dispatcher, tracker, {})) == {}
    tracker = make_tracker("碧根果", slots={"requested_slot": "product"})
    assert run(ValidateProductForm().extract_product(dispatcher, tracker, {})) == {
        "product": "碧根果"
    }


def test_short_number_while_order_is_asked_is_re_asked_as_an_order_number(dispatcher):
    tracker = make_tracker("12345", slots={"requested_slot": "order_id"})
    form = ValidateOrderLookupForm()
    assert run(form.extract_order_id(dispatcher, tracker, {})) == {"order_id": "12345"}
    assert form.validate_phone_tail("12345", dispatcher, tracker, {}) == {"phone_tail": None}
    assert dispatcher.messages == []
    assert form.validate_order_id("12345", dispatcher, tracker, {}) == {"order_id": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_order_id"


def test_signed_in_customer_with_a_number_is_not_asked_for_order_or_phone_tail(
    dispatcher, monkeypatch
):
    """Without a number, what is asked depends on their orders: tests/actions/kit/test_which_order."""
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    form = ValidateOrderLookupForm()
    slots = ["order_id", "phone_tail"]
    signed_in = presale_support.tracker(
        "查下订单2024112300123", intent="check_order_status", customer_id=7
    )
    anonymous = presale_support.tracker("查下订单", intent="check_order_status")
    assert run(form.required_slots(slots, dispatcher, signed_in, {})) == []
    assert run(form.required_slots(slots, dispatcher, anonymous, {})) == slots


@pytest.mark.parametrize("intent", ["EXTERNAL_shipping_notice", "EXTERNAL_formula_runout"])
def test_a_proactive_notice_is_never_taken_as_an_answer(dispatcher, intent):
    """A notice arriving during a form is recorded as "EXTERNAL: <intent>" with that intent."""
    text = f"EXTERNAL: {intent}"
    notice = make_tracker(text, intent=intent, slots={"requested_slot": "return_reason"})
    typed = make_tracker(text, intent="inform", slots={"requested_slot": "return_reason"})
    assert free_text_answer(notice, "return_reason") == {}
    assert free_text_answer(typed, "return_reason") == {"return_reason": text}  # as written
    assert message_text(notice) == "" and message_text(typed) == text.lower()
    assert short_reply(notice, limit=60) is None
    assert short_reply(typed, limit=60) is not None


@pytest.mark.parametrize(
    "product, asked",
    [
        ("轻便跑步鞋", ["product"]),  # shoes: the foot length is asked by the advice itself
        ("男士商务衬衫", ["product", "height", "weight"]),
        ("没有这个东西", ["product", "height", "weight"]),  # unknown: asked as usual
        (None, ["product", "height", "weight"]),
    ],
)
def test_size_advice_asks_only_for_what_the_chart_measures(shop, dispatcher, product, asked):
    slots = {"product": product} if product else {}
    required = run(
        ValidateSizeAdviceForm().required_slots(
            ["product", "height", "weight"], dispatcher, make_tracker(slots=slots), {}
        )
    )
    assert required == asked


def test_a_tail_or_a_height_given_while_the_number_is_asked_is_no_wrong_number(dispatcher):
    form = ValidateOrderLookupForm()
    for text in ("尾号1234", "1234", "165cm 55kg"):
        tracker = make_tracker(text, slots={"requested_slot": "order_id"})
        assert run(form.extract_order_id(dispatcher, tracker, {})) == {}
    tracker = make_tracker("尾号1234", slots={"requested_slot": "order_id"})
    assert run(form.extract_phone_tail(dispatcher, tracker, {})) == {"phone_tail": "1234"}


def test_a_mobile_while_the_number_is_asked_is_said_wrong_and_stored_nowhere(dispatcher):
    form = ValidateOrderLookupForm()
    tracker = make_tracker("13812345678", slots={"requested_slot": "order_id"})
    assert run(form.extract_order_id(dispatcher, tracker, {})) == {"order_id": None}
    assert form.validate_order_id(None, dispatcher, tracker, {}) == {"order_id": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_order_id"
