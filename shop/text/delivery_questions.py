"""What a delivery question asks: the dispatch day, the arrival, or why an order has not shipped.

"今天能发货吗" and "什么时候发" ask when the parcel leaves; "几号能到" and "寄到成都要几天" when
it arrives; "怎么还没发货" complains that an order already paid has not left. Pure functions on
the customer's words (Simplified or Traditional, any width).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shop.text.normalise import normalise

_LATE = re.compile(
    r"(还|仍|一直|迟迟|咋|怎么|为什么|为啥|都.{0,4}了).{0,4}(没|不|未)(有)?(发货|发出|发|寄出|寄|出库|动)"
    r"|什么时候才(发|寄)|拍了(好久|好几天|几天|这么久)|付款.{0,6}(好久|几天).{0,4}(没|不)"
)
_ARRIVAL = re.compile(r"到|送达|收到|多久|几天|多长时间|时效")
_DISPATCH = re.compile(r"发货|发出|寄出|出库|发走|能发|发吗|几点发|什么时候发|哪天发|啥时候发")
_NOT_ARRIVAL = re.compile(r"到底|到手价|到账|到期|收到货了|发到")
_SHIP_TO = re.compile(r"发到|寄到|送到")
_PRESALE = re.compile(
    r"现在(拍|下单|买|付款|付)|今天(拍|下单|买)|拍下|下单的话|买的话|如果(买|拍|下单)"
)
_MY_ORDER = re.compile(
    r"我的|我这|这单|那单|订单|单子|我买的|我拍的|已经(拍|买|付)|(发货|发|寄|发出|到)了?没"
)


@dataclass(frozen=True)
class DeliveryQuestion:
    """What a delivery question asks.

    Attributes:
        dispatch: When the parcel leaves the warehouse.
        arrival: When it arrives (also asked by a deadline: 周六之前能到吗).
        late: Why an order already paid has not shipped yet.
        presale: Asked before buying (现在拍, 下单的话).
        about_order: Speaks of an order already placed (我的, 这单, 发货没, and every late one).

    """

    dispatch: bool
    arrival: bool
    late: bool
    presale: bool
    about_order: bool


def delivery_question(text: Any) -> DeliveryQuestion:
    """Reads what a delivery question asks (a question naming neither asks for the arrival).

    Args:
        text: The customer's message.

    Returns:
        The question's parts.

    """
    words = normalise(str(text or ""))
    late = bool(_LATE.search(words))
    ship_to = bool(_SHIP_TO.search(words))
    arrival_words = _NOT_ARRIVAL.sub(" ", words)
    arrival = ship_to or bool(_ARRIVAL.search(arrival_words))
    dispatch = late or bool(_DISPATCH.search(_SHIP_TO.sub(" ", words)))
    presale = bool(_PRESALE.search(words))
    return DeliveryQuestion(
        dispatch=dispatch,
        arrival=arrival or not dispatch,
        late=late,
        presale=presale and not late,
        about_order=late or (not presale and bool(_MY_ORDER.search(words))),
    )


__all__ = ["DeliveryQuestion", "delivery_question"]
