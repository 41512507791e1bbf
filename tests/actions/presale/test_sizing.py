"""Size advice from the seeded size charts (one SQLite per test) and the pure chart matcher."""

import asyncio

import pytest
from sqlalchemy import select

from actions.presale.sizing import ActionSizeAdvice, choose_size
from shop.db import session_scope
from shop.db.models import Product
from shop.demo.data import BOTTOM_CHART, TOP_CHART
from tests.actions.conftest import make_tracker

JEANS = "衣见高腰直筒牛仔裤"
SHOES = "衣见经典帆布鞋"
TEE = "衣见圆领纯棉T恤"


def user(intent, text):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text="..."):
    return {"event": "bot", "text": text}


def slot_event(name, value):
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def advise(dispatcher, turns=(), **slots):
    """Runs the action after the customer's turns (intent, text), the last one being latest."""
    events = [user(*turn) if isinstance(turn, tuple) else turn for turn in turns]
    last = [e for e in events if e["event"] == "user"][-1] if turns else {"text": ""}
    intent = last.get("parse_data", {}).get("intent", {}).get("name", "inform")
    tracker = make_tracker(last["text"], intent, slots=slots, events=events)
    events = asyncio.run(ActionSizeAdvice().run(dispatcher, tracker, {}))
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


def test_shoes_without_a_foot_length_ask_for_it_and_wait(shop, dispatcher):
    chart, _ = chart_of(shop, SHOES)
    response, facts, events = advise(dispatcher, product=SHOES, height="165", weight="60")
    assert response == "utter_size_advice_needs_foot_length"
    first = chart[0]
    assert facts["size_ranges"].startswith(
        f"{first['size']}: {first['foot_length_mm'][0]}-{first['foot_length_mm'][1]}mm"
    )
    assert events == [slot_event("foot_length_asked", True)]


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


def test_a_foot_length_in_the_question_gives_the_size_and_the_range(shop, dispatcher):
    response, facts, events = advise(
        dispatcher, [("ask_size_advice", "我脚长24.2厘米 帆布鞋穿多大")], product=SHOES
    )
    assert response == "utter_size_advice_by_foot"
    assert (facts["product"], facts["foot_length"], facts["size"]) == (SHOES, "242mm", "39")
    assert facts["foot_range"] == "39 240-245mm"
    assert events == []


def test_the_reply_to_the_foot_length_question_gives_the_size(shop, dispatcher):
    turns = [("ask_size_advice", "帆布鞋穿几码"), bot(), ("inform", "脚长257毫米")]
    response, facts, events = advise(
        dispatcher, turns, product=SHOES, height="165cm", weight="60kg", foot_length_asked=True
    )
    assert response == "utter_size_advice_by_foot"
    assert (facts["size"], facts["foot_range"]) == ("42", "42 255-260mm")
    assert events == [slot_event("foot_length_asked", None)]


def test_a_bare_number_counts_only_right_after_the_question(shop, dispatcher):
    turns = [("ask_size_advice", "帆布鞋穿几码"), bot(), ("inform", "24.2")]
    response, facts, _ = advise(dispatcher, turns, product=SHOES, foot_length_asked=True)
    assert (response, facts["size"]) == ("utter_size_advice_by_foot", "39")
    dispatcher.messages.clear()
    response, _, events = advise(dispatcher, turns, product=SHOES)
    assert response == "utter_size_advice_needs_foot_length"
    assert events == [slot_event("foot_length_asked", True)]


def test_an_unreadable_reply_is_asked_again(shop, dispatcher):
    turns = [("ask_size_advice", "帆布鞋穿几码"), bot(), ("inform", "还没量呢")]
    response, _, events = advise(dispatcher, turns, product=SHOES, foot_length_asked=True)
    assert response == "utter_size_advice_needs_foot_length"
    assert events == [slot_event("foot_length_asked", True)]


def test_the_newest_foot_length_counts_and_older_requests_do_not(shop, dispatcher):
    corrected = [("ask_size_advice", "脚长24.2 穿几码"), bot(), ("inform", "不对 脚长25.7厘米")]
    response, facts, _ = advise(dispatcher, corrected, product=SHOES)
    assert (response, facts["size"]) == ("utter_size_advice_by_foot", "42")
    dispatcher.messages.clear()
    older = [("ask_size_advice", "脚长24.2 穿几码"), bot(), ("ask_size_advice", "帆布鞋穿几码")]
    response, _, _ = advise(dispatcher, older, product=SHOES)
    assert response == "utter_size_advice_needs_foot_length"


def test_a_foot_length_on_a_boundary_recommends_the_larger_size(shop, dispatcher):
    _, specs = chart_of(shop, SHOES)
    response, facts, _ = advise(dispatcher, [("ask_size_advice", "脚长24.5穿多大")], product=SHOES)
    assert response == "utter_size_advice_by_foot_between"
    assert (facts["size"], facts["other_size"]) == ("40", "39")
    assert facts["foot_range"] == "39 240-245mm、40 245-250mm"
    assert facts["size_tip"] == specs["尺码建议"]


def test_a_foot_length_outside_the_chart_says_so(shop, dispatcher):
    response, facts, _ = advise(dispatcher, [("ask_size_advice", "脚长30厘米")], product=SHOES)
    assert response == "utter_size_advice_by_foot_out_of_chart"
    assert (facts["foot_length"], facts["smallest_size"], facts["largest_size"]) == (
        "300mm",
        "36",
        "44",
    )


def test_a_waist_that_agrees_is_named_in_the_reason(shop, dispatcher):
    turns = [("ask_size_advice", "牛仔裤 腰围72 穿几码")]
    response, facts, _ = advise(dispatcher, turns, product=JEANS, height="168cm", weight="58kg")
    assert response == "utter_size_advice_with_waist"
    assert (facts["size"], facts["waist"], facts["waist_range"]) == ("L", "72cm", "L 70-75cm")
    assert (facts["height_range"], facts["weight_range"]) == ("L 165-170cm", "L 54-61kg")


def test_a_larger_waist_moves_the_advice_up_a_size(shop, dispatcher):
    _, specs = chart_of(shop, JEANS)
    turns = [
        ("ask_size_advice", "牛仔裤穿几码"),
        bot(),
        ("inform", "168"),
        bot(),
        ("inform", "腰围2尺3"),
    ]
    response, facts, _ = advise(dispatcher, turns, product=JEANS, height="168cm", weight="58kg")
    assert response == "utter_size_advice_between_with_waist"
    assert (facts["size"], facts["other_size"]) == ("XL", "L")
    assert (facts["waist"], facts["waist_range"]) == ("76.7cm", "XL 75-80cm")
    assert facts["size_tip"] == specs["尺码建议"]


def test_a_waist_outside_the_chart_says_so(shop, dispatcher):
    turns = [("ask_size_advice", "腰围100cm 牛仔裤有我的码吗")]
    response, facts, _ = advise(dispatcher, turns, product=JEANS, height="168cm", weight="58kg")
    assert response == "utter_size_advice_out_of_chart_with_waist"
    assert (facts["waist"], facts["smallest_size"], facts["largest_size"]) == ("100cm", "S", "XXL")


def test_a_waist_is_left_out_where_the_chart_has_no_waist(shop, dispatcher):
    turns = [("ask_size_advice", "T恤 腰围2尺3 穿几码")]
    response, facts, _ = advise(dispatcher, turns, product=TEE, height="168cm", weight="58kg")
    assert response == "utter_size_advice"
    assert "waist" not in facts and facts["size"] == "L"


def test_choose_size_counts_the_waist():
    choice = choose_size(BOTTOM_CHART, {"height_cm": 168, "weight_kg": 58, "waist_cm": 76.7})
    assert (choice.size, choice.other_size) == ("XL", "L")
    assert choice.ranges["waist_cm"] == "XL 75-80cm"
    assert choose_size(BOTTOM_CHART, {"height_cm": 168, "weight_kg": 58, "waist_cm": 90}) is None
