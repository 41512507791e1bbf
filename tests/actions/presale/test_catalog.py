"""Stock and product-info actions against a freshly seeded demo shop (one SQLite per test)."""

import asyncio

from sqlalchemy import select

from actions.presale.catalog import ActionCheckStock, ActionProductInfo
from shop import db
from shop.db import session_scope
from shop.db.models import Product, Sku
from shop.money import yuan
from tests.actions.conftest import make_tracker

JEANS = "衣见高腰直筒牛仔裤"


def run(action, dispatcher, **slots):
    return asyncio.run(action.run(dispatcher, make_tracker(slots=slots), {}))


def only_message(dispatcher):
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"] is None  # no literal text: a response name and facts
    return message["response"], message


def skus_of(engine, name):
    with session_scope(engine) as session:
        rows = session.execute(
            select(Sku).join(Product).where(Product.name == name).order_by(Sku.id)
        ).scalars()
        return [(s.colour, s.size, s.stock, s.restock_date) for s in rows]


def test_sold_out_variant_gets_its_restock_date(shop, dispatcher):
    colour, size, _, restock = next(r for r in skus_of(shop, JEANS) if r[2] == 0)
    run(ActionCheckStock(), dispatcher, product="牛仔裤", color=colour, size=size.lower())
    response, facts = only_message(dispatcher)
    assert response == "utter_stock_sold_out"
    assert facts["product"] == JEANS
    assert facts["variant"] == f"{colour} {size}"
    assert facts["restock_date"] == restock.isoformat()


def test_in_stock_variant_with_lowercase_size(shop, dispatcher):
    colour, size, stock, _ = next(r for r in skus_of(shop, JEANS) if r[2] > 0 and r[1] == "XL")
    run(ActionCheckStock(), dispatcher, product=JEANS, color=colour, size="xl")
    response, facts = only_message(dispatcher)
    assert response == "utter_stock_available"
    assert (facts["variant"], facts["stock"]) == (f"{colour} XL", stock)


def test_stock_overview_lists_available_and_sold_out_variants(shop, dispatcher):
    rows = skus_of(shop, JEANS)
    run(ActionCheckStock(), dispatcher, product=JEANS)
    response, facts = only_message(dispatcher)
    available = [f"{c} {s}" for c, s, n, _ in rows if n > 0]
    sold_out = [f"{c} {s}" for c, s, n, _ in rows if n == 0]
    assert sold_out, "the demo shop has a sold-out jeans variant"
    assert response == "utter_stock_overview_partly_sold_out"
    assert facts["available_variants"].split("、") == available
    assert facts["sold_out_variants"].split("、") == sold_out
    assert facts["total_stock"] == sum(n for _, _, n, _ in rows)
    dates = [d for _, _, n, d in rows if n == 0 and d is not None]
    assert facts["restock_date"] == min(dates).isoformat()


def test_colour_filter_narrows_the_answer(shop, dispatcher):
    rows = [r for r in skus_of(shop, JEANS) if r[0] == "深蓝"]
    run(ActionCheckStock(), dispatcher, product=JEANS, color="深蓝")
    _, facts = only_message(dispatcher)
    assert all(label.startswith("深蓝") for label in facts["available_variants"].split("、"))
    assert facts["total_stock"] == sum(n for _, _, n, _ in rows if n > 0)


def test_restocked_sku_changes_the_answer(shop, dispatcher):
    colour, size, _, _ = next(r for r in skus_of(shop, JEANS) if r[2] == 0)
    with session_scope(shop) as session:
        sku = session.execute(
            select(Sku)
            .join(Product)
            .where(Product.name == JEANS, Sku.colour == colour, Sku.size == size)
        ).scalar_one()
        sku.stock, sku.restock_date = 7, None
    run(ActionCheckStock(), dispatcher, product=JEANS, color=colour, size=size)
    response, facts = only_message(dispatcher)
    assert (response, facts["stock"]) == ("utter_stock_available", 7)


def test_unknown_variant_lists_what_is_offered(shop, dispatcher):
    run(ActionCheckStock(), dispatcher, product=JEANS, color="紫色", size="m")
    response, facts = only_message(dispatcher)
    assert response == "utter_stock_variant_not_found"
    assert facts["requested_variant"] == "紫色 M"
    assert facts["colours_offered"] == "浅蓝、深蓝"
    assert facts["sizes_offered"] == "S、M、L、XL、XXL"


def test_unknown_product_gets_close_names(shop, dispatcher):
    run(ActionCheckStock(), dispatcher, product="玫瑰花茶")
    response, facts = only_message(dispatcher)
    assert response == "utter_product_not_found"
    assert facts["product"] == "玫瑰花茶"
    names = facts["suggestions"].split("、")
    assert 1 <= len(names) <= 3 and all("玫瑰" in name for name in names)


def test_unrelated_product_is_not_found_without_suggestions(shop, dispatcher):
    run(ActionCheckStock(), dispatcher, product="量子计算机")
    response, facts = only_message(dispatcher)
    assert (response, facts["product"]) == ("utter_product_not_found_no_suggestions", "量子计算机")


def test_missing_product_is_asked_for(shop, dispatcher):
    run(ActionProductInfo(), dispatcher)
    assert only_message(dispatcher)[0] == "utter_ask_product"


def test_product_info_clothing_facts_from_specs(shop, dispatcher):
    with session_scope(shop) as session:
        jeans = session.execute(select(Product).where(Product.name == JEANS)).scalar_one()
        specs, price = dict(jeans.specs), jeans.price_fen
    run(ActionProductInfo(), dispatcher, product="牛仔裤")
    response, facts = only_message(dispatcher)
    assert response == "utter_product_info"
    assert facts["price_yuan"] == yuan(price) == "169"
    assert facts["material"] == specs["面料"]
    assert facts["usage"] == specs["洗涤"]
    assert facts["colours"] == facts["variants_offered"] == "浅蓝、深蓝"
    assert f"面料: {specs['面料']}" in facts["specs"]
    assert facts["warranty_years"] == 0


def test_product_info_appliance_has_warranty_and_dimensions(shop, dispatcher):
    name = "厨匠侧吸式油烟机J1"
    with session_scope(shop) as session:
        hood = session.execute(select(Product).where(Product.name == name)).scalar_one()
        years, size = hood.warranty_years, hood.specs["尺寸"]
    run(ActionProductInfo(), dispatcher, product=name)
    response, facts = only_message(dispatcher)
    assert response == "utter_product_info_with_warranty"
    assert (facts["warranty_years"], facts["dimensions"]) == (years, size) == (5, "895×540×480mm")
    assert facts["price_yuan"] == "2999"


def test_product_info_food_shelf_life_and_oil_variants(shop, dispatcher):
    run(ActionProductInfo(), dispatcher, product="碧根果")
    run(ActionProductInfo(), dispatcher, product="薰衣草精油")
    nuts, oil = (m for m in dispatcher.messages)
    assert (nuts["shelf_life"], nuts["colours"], nuts["price_yuan"]) == (
        "9个月",
        "奶油味、原味",
        "45",
    )
    assert oil["colours"] == "" and oil["variants_offered"] == "10ml"
    assert oil["usage"] == "稀释后按摩或滴入香薰机"
    assert "variant_label" not in nuts["specs"]


def test_price_in_yuan_keeps_fen():
    assert [yuan(f) for f in (0, 5900, 5950, 5905, 19900)] == [
        "0",
        "59",
        "59.50",
        "59.05",
        "199",
    ]


def test_database_unavailable_gets_an_apology_and_a_human(tmp_path, monkeypatch, dispatcher):
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    db.reset()
    try:
        events = run(ActionCheckStock(), dispatcher, product=JEANS)
    finally:
        db.reset()
    assert only_message(dispatcher)[0] == "utter_shop_unavailable"
    assert events == [
        {"event": "slot", "timestamp": None, "name": "handoff_reason", "value": "system_error"}
    ]
