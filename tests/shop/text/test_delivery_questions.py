"""Dispatch, arrival and late-order questions told apart."""

import pytest

from shop.text.delivery_questions import delivery_question


@pytest.mark.parametrize(
    "text, dispatch, arrival",
    [
        ("现在拍今天能发货吗", True, False),
        ("什么时候发货", True, False),
        ("到底什么时候发货", True, False),  # 到底 asks nothing about the arrival
        ("什麼時候發貨", True, False),
        ("什么时候到", False, True),
        ("几号能到", False, True),
        ("发到杭州要几天", False, True),  # 发到: ships to, the arrival is asked
        ("寄到成都 周六之前能到吗？", False, True),
        ("现在下单什么时候发货 几号能到", True, True),
        ("要几天", False, True),
        ("多少钱", False, True),  # neither: the arrival, the more common question
    ],
)
def test_dispatch_and_arrival(text, dispatch, arrival):
    question = delivery_question(text)
    assert (question.dispatch, question.arrival) == (dispatch, arrival)


@pytest.mark.parametrize(
    "text", ["怎么还没发货", "拍了好久了怎么还不发货", "付款三天了还没发", "都三天了还不发货"]
)
def test_an_order_not_shipped_yet(text):
    question = delivery_question(text)
    assert question.late and question.dispatch and question.about_order
    assert not question.presale


@pytest.mark.parametrize(
    "text, presale, about_order",
    [
        ("现在拍今天能发货吗", True, False),
        ("今天下单明天能到吗", True, False),
        ("我的快递什么时候到", False, True),
        ("这单什么时候发", False, True),
        ("我买的东西发货没有啊", False, True),
        ("寄到成都要几天", False, False),
        ("发什么快递", False, False),
    ],
)
def test_before_buying_or_about_an_order(text, presale, about_order):
    question = delivery_question(text)
    assert (question.presale, question.about_order) == (presale, about_order)
