"""The product the forms take when the entity extractor found none, and what the resolver
makes of "this one" on a product page and of products the shop does not sell."""

import asyncio

from actions.kit.forms import ValidateProductForm, ValidateSizeAdviceForm
from actions.kit.which_product import PAGE_PRODUCT_KEY, resolve, slot_value
from actions.presale.catalog import ActionCheckStock
from actions.presale.installation import ActionInstallationInfo
from shop.db import session_scope
from tests.actions.conftest import make_tracker
from tests.actions.presale.test_gifts import product_named
from tests.actions.presale_support import at_demo_time, only_message, run_action


def extracted(form, tracker, dispatcher):
    return asyncio.run(form.extract_product(dispatcher, tracker, {}))


def test_a_product_word_with_a_latin_letter_fills_the_product_form(shop, dispatcher):
    tracker = make_tracker("T恤有白色M码吗", "ask_stock")
    assert extracted(ValidateProductForm(), tracker, dispatcher) == {"product": "衣见圆领纯棉T恤"}


def test_a_traditional_product_name_fills_the_size_form(shop, dispatcher):
    tracker = make_tracker("身高170 體重65公斤 休閒束腳褲穿什麼尺寸", "ask_size_advice")
    assert extracted(ValidateSizeAdviceForm(), tracker, dispatcher) == {"product": "衣见休闲束脚裤"}


def test_the_product_page_fills_the_form_for_this_one(shop, dispatcher):
    hoodie = product_named(shop, "衣见宽松连帽卫衣")
    tracker = make_tracker(
        "这件有黑色的吗 我想要L码", "ask_stock", metadata={PAGE_PRODUCT_KEY: hoodie.id}
    )
    assert extracted(ValidateProductForm(), tracker, dispatcher) == {"product": hoodie.name}
    off_page = make_tracker("这件有黑色的吗 我想要L码", "ask_stock")
    assert extracted(ValidateProductForm(), off_page, dispatcher) == {}


def test_a_product_the_shop_does_not_sell_fills_the_form_with_what_was_asked(shop, dispatcher):
    tracker = make_tracker("你们家有卖空气炸锅吗", "ask_stock")
    assert extracted(ValidateProductForm(), tracker, dispatcher) == {"product": "空气炸锅"}


def test_several_candidates_fill_the_form_with_what_they_are_all_called(shop):
    with session_scope(shop) as session:
        assert slot_value(session, make_tracker("油烟机有货吗", "ask_stock")) == "油烟机"
        assert slot_value(session, make_tracker("衬衫有白色吗", "ask_stock")) == "衬衫"
        assert slot_value(session, make_tracker("有卖奶粉吗", "ask_stock")) == "奶粉"


def test_a_filled_slot_and_a_short_reply_are_kept(shop, dispatcher):
    kept = make_tracker("T恤有货吗", "ask_stock", slots={"product": "碧根果"})
    assert extracted(ValidateProductForm(), kept, dispatcher) == {}
    reply = make_tracker("碧根果", slots={"requested_slot": "product"})
    assert extracted(ValidateProductForm(), reply, dispatcher) == {"product": "碧根果"}


def test_a_do_you_sell_question_for_something_not_sold_is_said_not_sold(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    asked = make_tracker("你们家有卖空气炸锅吗", "ask_stock")
    run_action(ActionCheckStock(), dispatcher, asked)
    response, facts = only_message(dispatcher)
    assert response.startswith("utter_product_not_found")
    assert facts["product"] == "空气炸锅"


def test_a_do_you_sell_question_for_something_sold_is_answered(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    asked = make_tracker("你们有没有卖束脚裤", "ask_stock")
    run_action(ActionCheckStock(), dispatcher, asked)
    _, facts = only_message(dispatcher)
    assert facts["product"] == "衣见休闲束脚裤"


def test_this_one_on_a_page_is_the_page_product_though_a_word_names_another_kind(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    t7 = product_named(shop, "厨匠顶吸式油烟机T7")
    asked = make_tracker(
        "这个装多高合适 我家灶台上面空间不太够",
        "ask_installation",
        metadata={PAGE_PRODUCT_KEY: t7.id},
    )
    run_action(ActionInstallationInfo(), dispatcher, asked)
    response, facts = only_message(dispatcher)
    assert response.startswith("utter_installation_hood")
    assert facts["height_min_mm"] == t7.mounting_height_min_mm


def test_a_kind_named_without_this_one_is_still_asked_about_on_a_page(shop):
    t7 = product_named(shop, "厨匠顶吸式油烟机T7")
    hobs = make_tracker(
        "燃气灶台面开孔多大", "ask_installation", metadata={PAGE_PRODUCT_KEY: t7.id}
    )
    model = make_tracker("这个B3开孔多大", "ask_installation", metadata={PAGE_PRODUCT_KEY: t7.id})
    with session_scope(shop) as session:
        assert resolve(session, hobs).status == "ask"
        assert resolve(session, model).product.name == "厨匠嵌入式燃气灶B3"


def user_on_page(text, page_id, intent="ask_stock"):
    """A user event as Rasa stores it, sent from a product page (or none)."""
    parse = {"text": text, "intent": {"name": intent}, "entities": []}
    metadata = {PAGE_PRODUCT_KEY: page_id} if page_id is not None else {}
    return {"event": "user", "text": text, "parse_data": parse, "metadata": metadata}


def test_after_moving_to_another_page_this_one_is_the_product_on_screen(shop):
    tee = product_named(shop, "衣见圆领纯棉T恤")
    hoodie = product_named(shop, "衣见宽松连帽卫衣")
    named_on_tee_page = [
        {"event": "session_started"},
        user_on_page("T恤有白色吗", tee.id),
        {"event": "slot", "name": "product", "value": tee.name},
        {"event": "action", "name": "action_listen"},
    ]
    latest = user_on_page("这件有黑色的吗", hoodie.id)
    moved = make_tracker(
        "这件有黑色的吗",
        "ask_stock",
        slots={"product": tee.name},
        metadata={PAGE_PRODUCT_KEY: hoodie.id},
        events=[*named_on_tee_page, latest, {"event": "action", "name": "product_form"}],
    )
    named_on_hoodie_page = [
        {"event": "session_started"},
        user_on_page("T恤有白色吗", hoodie.id),
        {"event": "slot", "name": "product", "value": tee.name},
    ]
    stayed = make_tracker(
        "这件有黑色的吗",
        "ask_stock",
        slots={"product": tee.name},
        metadata={PAGE_PRODUCT_KEY: hoodie.id},
        events=[*named_on_hoodie_page, user_on_page("这件有黑色的吗", hoodie.id)],
    )
    with session_scope(shop) as session:
        assert resolve(session, moved).product.name == hoodie.name
        assert resolve(session, stayed).product.name == tee.name
