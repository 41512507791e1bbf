"""The one product resolver as the pre-sale actions use it (seeded demo shop, fresh per test)."""

from actions.kit.which_product import PAGE_PRODUCT_KEY, resolve
from actions.presale.catalog import ActionProductInfo
from actions.presale.discounts import ActionCheckDiscount
from actions.presale.gifts import ActionSuggestGift
from actions.presale.warranty import ActionCheckWarranty
from shop.db import session_scope
from shop.money import yuan
from tests.actions.conftest import make_tracker
from tests.actions.presale.test_gifts import product_named
from tests.actions.presale_support import at_demo_time, only_message, run_action, tracker


def entity(value):
    return [{"entity": "product", "value": value}]


def user(text, intent="ask_product_info", entities=None):
    """A user event as Rasa stores it."""
    parse = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse}


def test_t7_is_answered_as_the_t7_not_the_t5(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    t7 = product_named(shop, "厨匠顶吸式油烟机T7")
    asked = tracker("厨匠顶吸式油烟机T7多少钱", "ask_product_info", {"product": "厨匠顶吸式油烟机"})
    run_action(ActionProductInfo(), dispatcher, asked)
    response, facts = only_message(dispatcher)
    assert facts["product"] == "厨匠顶吸式油烟机T7"
    assert facts["price_yuan"] == yuan(t7.price_fen)


def test_t7_gift_threshold_is_the_t7_s(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    asked = tracker("厨匠顶吸式油烟机T7送什么", "ask_gift", {"product": "油烟机"})
    run_action(ActionSuggestGift(), dispatcher, asked)
    _, facts = only_message(dispatcher)
    assert facts["product"] == "厨匠顶吸式油烟机T7"
    assert facts["amount_yuan"] == yuan(product_named(shop, "厨匠顶吸式油烟机T7").price_fen)


def test_t5_range_hood_is_the_t5_not_the_e6(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionProductInfo(),
        dispatcher,
        tracker(
            "T5油烟机参数", "ask_product_info", {"product": "油烟机"}, entities=entity("油烟机")
        ),
    )
    _, facts = only_message(dispatcher)
    assert facts["product"] == "厨匠顶吸式油烟机T5"


def test_h20_warranty_is_the_h20_s(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionCheckWarranty(),
        dispatcher,
        tracker("燃气热水器H20保修几年", "ask_warranty", {"product": "燃气热水器"}),
    )
    _, facts = only_message(dispatcher)
    assert facts["product"] == "厨匠燃气热水器H20"


def test_full_width_lower_case_and_traditional_codes_find_the_same_model(shop):
    for text in ("ｔ７多少钱", "t7多少钱", "T7多少钱", "廚匠頂吸式油煙機Ｔ７多少錢"):
        with session_scope(shop) as session:
            found = resolve(session, tracker(text, "ask_product_info"))
            assert found.status == "found", text
            assert found.product.name == "厨匠顶吸式油烟机T7", text


def test_a_t_shirt_is_found_by_its_latin_letter(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionCheckDiscount(),
        dispatcher,
        tracker("T恤能便宜点吗", "ask_discount", {"product": "T恤"}),
    )
    _, facts = only_message(dispatcher)
    assert facts["product"] == "衣见圆领纯棉T恤"


def test_a_category_alone_is_asked_about_with_every_candidate_as_a_button(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    run_action(
        ActionSuggestGift(),
        dispatcher,
        tracker("这款油烟机有赠品吗", "ask_gift", {"product": "油烟机"}, entities=entity("油烟机")),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_ask_product"
    titles = [c["title"] for c in facts["choices"]]
    assert len(titles) == 8 and all("油烟机" in t for t in titles)
    assert facts["choices"][0]["payload"] == '/ask_gift{"product": "%s"}' % titles[0]


def test_a_product_the_shop_does_not_sell_is_said_so(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionProductInfo(),
        dispatcher,
        tracker(
            "你们的手机怎么样", "ask_product_info", {"product": "手机"}, entities=entity("手机")
        ),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_product_not_found_no_suggestions"
    assert facts["product"] == "手机"


def test_a_model_the_shop_does_not_have_is_not_answered_as_another(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionSuggestGift(),
        dispatcher,
        tracker("T9油烟机送什么", "ask_gift", {"product": "油烟机"}),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_product_not_found"
    assert facts["product"] == "油烟机T9" and "T9" not in facts["suggestions"]


def test_the_product_named_earlier_is_the_one_this_refers_to(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    earlier = [
        {"event": "session_started"},
        user("燃气热水器H20多少钱", entities=entity("燃气热水器H20")),
        {"event": "slot", "name": "product", "value": "燃气热水器H20"},
        user("这款热水器保修几年", "ask_warranty", entity("热水器")),
    ]
    asked = make_tracker(
        "这款热水器保修几年",
        "ask_warranty",
        {"product": "热水器"},
        entities=entity("热水器"),
        events=earlier,
    )
    run_action(ActionCheckWarranty(), dispatcher, asked)
    _, facts = only_message(dispatcher)
    assert facts["product"] == "厨匠燃气热水器H20"


def test_a_message_naming_no_product_keeps_the_earlier_one(shop):
    earlier = [user("T7有货吗", "ask_stock"), user("保修几年", "ask_warranty")]
    asked = make_tracker("保修几年", "ask_warranty", events=earlier)
    with session_scope(shop) as session:
        assert resolve(session, asked).product.name == "厨匠顶吸式油烟机T7"


def test_the_product_page_answers_for_this_one(shop):
    t5 = product_named(shop, "厨匠顶吸式油烟机T5")
    on_page = make_tracker("这款有赠品吗", "ask_gift", metadata={PAGE_PRODUCT_KEY: t5.id})
    vague = make_tracker(
        "这款油烟机有赠品吗",
        "ask_gift",
        entities=entity("油烟机"),
        metadata={PAGE_PRODUCT_KEY: t5.id},
    )
    with session_scope(shop) as session:
        assert resolve(session, on_page).product.name == "厨匠顶吸式油烟机T5"
        assert resolve(session, vague).product.name == "厨匠顶吸式油烟机T5"
        assert resolve(session, make_tracker("有赠品吗", "ask_gift")).status == "none"
