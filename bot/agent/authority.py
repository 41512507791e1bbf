"""What an agent's message promises in money, checked against the agent's compensation authority.

The seeds' empowered frontline settles most problems alone, up to a limit; above it a supervisor
decides. A suggestion carries the amount the bot's action computed (`compensation_fen`); a text an
agent edits or writes is read for promises of money: an amount in 元/块/¥ (digits or Chinese
numerals such as 两百) in a sentence that speaks of compensation (补偿, 赔偿, 赔付, 差价, 返现,
红包, 补贴, 优惠券 …). A plain refund of the goods' price (退款) is not compensation.
"""

from __future__ import annotations

import re
from typing import Iterable

from actions.parsing import chinese_number
from bot.nlu.normalise import normalise

COMPENSATION_WORDS = (
    "补偿",
    "赔偿",
    "赔付",
    "赔您",
    "赔你",
    "差价",
    "返现",
    "红包",
    "补贴",
    "优惠券",
    "无门槛券",
    "代金券",
    "礼金",
)
_NUMBER = r"(\d+(?:\.\d{1,2})?|[零〇一二两三四五六七八九十百千]+)"
_AMOUNTS = (
    re.compile(_NUMBER + r"\s*(?:元|块|圆|rmb)", re.IGNORECASE),
    re.compile(r"[¥￥]\s*" + _NUMBER),
)
_SENTENCES = re.compile(r"[。！？!?；;\n]")


def _fen(number: str) -> int:
    if re.fullmatch(r"\d+(?:\.\d{1,2})?", number):
        yuan, _, cents = number.partition(".")
        return int(yuan) * 100 + int((cents + "00")[:2])
    value = chinese_number(number)
    return (value or 0) * 100


def _amounts(sentence: str) -> Iterable[int]:
    for pattern in _AMOUNTS:
        for match in pattern.finditer(sentence):
            yield _fen(match.group(1))


def promised_compensation_fen(text: str) -> int:
    """The largest amount of money a text promises as compensation (0 when none).

    Args:
        text: An agent's message (Simplified or Traditional, any width).

    Returns:
        The amount in fen.
    """
    plain = normalise(text or "")
    largest = 0
    for sentence in _SENTENCES.split(plain):
        if any(word in sentence for word in COMPENSATION_WORDS):
            largest = max([largest, *_amounts(sentence)])
    return largest


def within_authority(amount_fen: int, limit_fen: int) -> bool:
    """Whether an agent with `limit_fen` may grant `amount_fen` alone."""
    return amount_fen <= limit_fen
