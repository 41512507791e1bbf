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

from shop.text.normalise import normalise
from shop.text.parsing import chinese_number

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
_DIGITS = r"\d[\d,]*(?:\.\d{1,2})?\s*[百千万]?"
_NUMERALS = r"[零〇一二两三四五六七八九十百千万]+"
_NUMBER = rf"({_DIGITS}|{_NUMERALS})"
_AMOUNTS = (
    re.compile(_NUMBER + r"\s*(?:元|块|圆|rmb)", re.IGNORECASE),
    re.compile(r"[¥￥]\s*(" + _DIGITS + ")"),
)
_SENTENCES = re.compile(r"[。．！？!?；;\n]")
_UNIT = {"百": 100, "千": 1000, "万": 10000}


def _small(numeral: str) -> int:
    """A Chinese numeral below ten thousand (二十五, 两百), 0 when it is none."""
    return chinese_number(numeral) or 0 if numeral else 0


def _fen(number: str) -> int:
    """Fen in an amount: 200 / 1,000 / 35.5 / 1.5万 / 3百 / 两百 / 一万二."""
    number = number.replace(",", "").replace(" ", "")
    match = re.fullmatch(r"(\d+)(?:\.(\d{1,2}))?([百千万]?)", number)
    if match:
        whole, cents, unit = match.groups()
        fen = int(whole) * 100 + int(((cents or "") + "00")[:2])
        return fen * _UNIT.get(unit, 1)
    if "万" in number:
        high, _, low = number.partition("万")
        return (_small(high) or 1) * 10000 * 100 + _small(low) * 100
    return _small(number) * 100


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
    largest = 0
    for raw in _SENTENCES.split(text or ""):
        sentence = normalise(raw)  # after splitting: normalising turns 。 and line ends into others
        if any(word in sentence for word in COMPENSATION_WORDS):
            largest = max([largest, *_amounts(sentence)])
    return largest


def within_authority(amount_fen: int, limit_fen: int) -> bool:
    """Whether an agent with `limit_fen` may grant `amount_fen` alone."""
    return amount_fen <= limit_fen
