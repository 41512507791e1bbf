"""Size advice from the seeded size charts (one SQLite per test) and the pure chart matcher."""

import asyncio

import pytest
from sqlalchemy import select

from actions.db import session_scope
from actions.models import Product
from actions.seed_data import BOTTOM_CHART, TOP_CHART
from actions.sizing import ActionSizeAdvice, choose_size
from tests.actions.conftest import make_tracker

JEANS = "衣见高腰直筒牛仔裤"


def advise(dispatcher, **slots):
    events = asyncio.run(ActionSizeAdvice().run(dispatcher, make_tracker(slots=slots), {}))
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"] is None
    return message["response"], message, events


def chart_of(engine, name):
    with session_scope(engine) as session:
        product = session.execute(select(Product).where(Product.name == name)).scalar_one()
        return list(product.size_chart), dict(product.specs)


def row(chart, size):
    return next(r for r in chart if r["size"] == size)


def test_one_size_matches_both_measurements(shop, dispatcher):
    chart, _ = chart_of(shop, JEANS)
    response, facts, _ = advise(dispatcher, product="牛仔裤", height="172cm", weight="65kg")
    assert response == "utter_size_advice"
    xl = row(chart, "XL")
    assert facts["size"] == "XL"
    assert facts["height_range"] == f"XL {xl['height_cm'][0]}-{xl['height_cm'][1]}cm"
    assert facts["weight_range"] == f"XL {xl['weight_kg'][0]}-{xl['weight_kg'][1]}kg"
    assert (facts["height"], facts["weight"], facts["product"]) == ("172cm", "65kg", JEANS)


def test_boundary_height_is_settled_by_weight(shop, dispatcher):
    response, facts, _ = advise(dispatcher, product=JEANS, height="165", weight="120斤")
    assert response == "utter_size_advice"
    assert facts["size"] == "L"
    assert facts["height_range"] == "M 158-165cm、L 165-170cm"
    assert facts["weight_range"] == "L 54-61kg"
    assert facts["weight"] == "60kg"


def test_between_two_sizes_recommends_the_larger_and_says_why(shop, dispatcher):
    _, specs = chart_of(shop, JEANS)
    response, facts, _ = advise(dispatcher, product=JEANS, height="160cm", weight="58kg")
    assert response == "utter_size_advice_between"
    assert (facts["size"], facts["other_size"]) == ("L", "M")
    assert facts["height_range"] == "M 158-165cm"
    assert facts["weight_range"] == "L 54-61kg"
    assert facts["size_tip"] == specs["尺码建议"]


def test_outside_the_chart_says_so(shop, dispatcher):
    response, facts, _ = advise(dispatcher, product=JEANS, height="1米95", weight="70kg")
    assert response == "utter_size_advice_out_of_chart"
    assert (facts["smallest_size"], facts["largest_size"]) == ("S", "XXL")
    assert facts["height"] == "195cm"


def test_product_without_size_chart(shop, dispatcher):
    response, facts, _ = advise(dispatcher, product="薰衣草精油", height="165cm", weight="60kg")
    assert (response, facts["product"]) == ("utter_size_advice_no_chart", "芳屿薰衣草精油")


def test_shoes_are_sized_by_foot_length(shop, dispatcher):
    chart, _ = chart_of(shop, "衣见经典帆布鞋")
    response, facts, _ = advise(dispatcher, product="衣见经典帆布鞋", height="165", weight="60")
    assert response == "utter_size_advice_needs_foot_length"
    first = chart[0]
    assert facts["size_ranges"].startswith(
        f"{first['size']}: {first['foot_length_mm'][0]}-{first['foot_length_mm'][1]}mm"
    )


def test_unreadable_weight_is_asked_again(shop, dispatcher):
    response, _, events = advise(dispatcher, product=JEANS, height="165cm", weight="很瘦")
    assert response == "utter_ask_weight"
    assert events == [{"event": "slot", "timestamp": None, "name": "weight", "value": None}]


def test_unknown_product(shop, dispatcher):
    response, _, _ = advise(dispatcher, product="量子计算机", height="165cm", weight="60kg")
    assert response == "utter_product_not_found_no_suggestions"


@pytest.mark.parametrize(
    "height, weight, size, other",
    [
        (150, 40, "S", None),
        (186, 85, "XXL", None),
        (170, 60, "L", None),
        (160, 70, "XL", "M"),
    ],
)
def test_choose_size_on_the_top_chart(height, weight, size, other):
    choice = choose_size(TOP_CHART, {"height_cm": height, "weight_kg": weight})
    assert (choice.size, choice.other_size) == (size, other)


def test_choose_size_outside_the_chart_is_none():
    assert choose_size(BOTTOM_CHART, {"height_cm": 149, "weight_kg": 45}) is None
    assert choose_size(BOTTOM_CHART, {"height_cm": 160, "weight_kg": 81}) is None
