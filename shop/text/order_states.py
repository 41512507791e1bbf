"""Which of their orders a customer means by its state: "the unpaid one", "the one not shipped".

A signed-in customer with several orders often names the one they mean by where it stands
rather than by its number (把那个还没付款的取消了, 已经发货的那单到哪了). `states_named` reads
that from the message (Simplified or Traditional) as order states (`shop.db.models.ORDER_STATES`);
the order resolver narrows the customer's orders to those in them. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Tuple

from shop.text.normalise import to_simplified

_PAY = r"(?:付款|付钱|支付|付)"
# the first pattern that matches decides, so negated phrases come before the plain ones
_STATE_WORDS: Tuple[Tuple[re.Pattern, Tuple[str, ...]], ...] = (
    (re.compile(rf"(?:没有?|未|还没|待|忘了?){_PAY}|拍了没付|拍下没付"), ("unpaid",)),
    (re.compile(r"(?:没有?|未|还没|待)发(?:货|出)|没寄出|还没寄"), ("paid",)),
    (re.compile(r"已(?:经)?发(?:货|出)|发了货|(?:在|还在)路上|运输中"), ("shipped",)),
    (re.compile(r"已(?:经)?签收|已经收到|收到(?:了)?的那"), ("delivered", "completed")),
)


def states_named(text: str) -> Tuple[str, ...]:
    """The order states the message names its order by, or () when it names none.

    Args:
        text: The customer's message.

    Returns:
        Order states (e.g. ``("unpaid",)``), the first kind of phrase found deciding.
    """
    simplified = to_simplified(text or "")
    for pattern, states in _STATE_WORDS:
        if pattern.search(simplified):
            return states
    return ()
