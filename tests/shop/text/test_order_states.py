"""Orders named by their state (shop/text/order_states.py)."""

import pytest

from shop.text.order_states import states_named


@pytest.mark.parametrize(
    "text, states",
    [
        ("把我那个还没付款的订单取消了吧", ("unpaid",)),
        ("拍了没付的那个不要了", ("unpaid",)),
        ("待支付的订单帮我关掉", ("unpaid",)),
        ("那個還沒付款的", ("unpaid",)),
        ("还没发货的那个能改地址吗", ("paid",)),
        ("怎么还没发货", ("paid",)),
        ("已经发货的那单到哪了", ("shipped",)),
        ("还在路上的那个", ("shipped",)),
        ("已签收的那个我要退", ("delivered", "completed")),
        ("帮我查下订单", ()),
        ("付款后多久发货", ()),
        ("", ()),
    ],
)
def test_the_state_a_message_names_its_order_by(text, states):
    assert states_named(text) == states
