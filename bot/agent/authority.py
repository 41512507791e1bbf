"""What an agent's message promises in money, checked against the agent's compensation authority.

The seeds' empowered frontline settles most problems alone, up to a limit; above it a supervisor
decides. A suggestion carries the amount the bot's action computed (`compensation_fen`); a text an
agent edits or writes is read for promises of money, and what cannot be read for certain is
refused (the agent writes the amount plainly, or asks a supervisor).

How a text is read:

1. Prepared: NFKC (full-width digits and letters, ￥, circled digits), Traditional to Simplified,
   case-folded; characters that show nothing (zero-width spaces, joiners, combining marks,
   fillers) and spaces are removed, so "补\u200b偿 3 0 0 元" reads as "补偿300元".
2. It speaks of compensation when a compensation word appears (`COMPENSATION`: 补偿, 赔 alone,
   返现 or 返 with an amount, 券, 红包, 差价, 补贴 …), in this message or in the agent's previous
   one (a promise split over two messages).
3. Clauses are split at sentence and clause marks. An amount is a number (digits, Chinese or
   financial numerals, read by `shop.text.parsing.read_amount`) with a currency (元, 块, ¥, RMB,
   CNY, 人民币 …) or, when compensation is spoken of, a bare number that is no count, date, time
   or identifier (赔您300, 红包300). Amounts in a clause about the refund or the price (退款299元,
   实付128元, 满300) without a compensation word are not compensation.
4. The promise is the largest amount (times a count of coupons, 3张20元券 = 60 元). It is
   uncertain when an amount is approximate or unreadable (几百, 300多, 3千5百), in another
   currency ($, 美元), relative (双倍, 9折, 全额赔偿, 免单), or when compensation is spoken of
   and the only amounts are in refund or price clauses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, List, Optional, Tuple

from shop.text.normalise import to_simplified
from shop.text.parsing import read_amount

_NUMERAL = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
COMPENSATION = re.compile(
    "补偿|赔(?!罪|不是|礼)|补贴|补差|补[您你]|补给[您你]|差价|返现|返利|返点|(?<!原路)返还"
    f"|返[您你给]|返(?=[¥$\\d{_NUMERAL}])|红包|券|礼金|津贴|慰问金|安抚金|报销|转账|打款"
    "|转[您你]|打给[您你]|优惠[您你]|给[您你]优惠|减[您你]|便宜[您你]|免单"
    "|peichang|peifu|buchang|butie|hongbao|fanxian"
)
# Words about the refund of the goods or their price: an amount there is no compensation.
PRICE_OR_REFUND = re.compile(
    "退款|退货|货款|原路|退回|实付|原价|售价|价格|单价|总价|到手价|标价|订单|付款|支付|运费|活动"
)
# Compensation whose amount follows from something else: never read as a sum.
RELATIVE = re.compile(
    f"[\\d{_NUMERAL}]+倍|双倍|翻倍|加倍|全额[赔补返]|照价|按价|原价赔|全赔|都赔|都补|免单"
    "|多少都|不限|随便|[\\d.]+%|[\\d{_NUMERAL}]+折"
)
_CURRENCY_AFTER = ("块钱", "元钱", "元", "块", "圆", "人民币", "rmb", "cny", "yuan")
_CURRENCY_BEFORE = ("人民币", "rmb", "cny", "¥")
_FOREIGN_AFTER = (
    "美元",
    "美金",
    "刀",
    "usd",
    "欧元",
    "eur",
    "英镑",
    "日元",
    "港币",
    "港元",
    "澳元",
)
_FOREIGN_BEFORE = ("us$", "hk$", "$", "usd", "€", "£", "eur")
_TENTHS = ("毛", "角")
# A number followed by these counts things, days or times, not money.
_COUNT_UNITS = (
    "天|日|号|月|年|周|个|件|次|单|笔|小时|h|分|秒|点|斤|kg|公斤|g|克|cm|厘米|mm|米|码|岁|位|人|条"
    "|张|份|盒|瓶|包|箱|台|套|双|支|颗|粒|期|楼|层|星|元?以上|元?以内"
)
_COUNTS = re.compile(f"^(?:{_COUNT_UNITS})")
_COUPONS = re.compile(f"([\\d{_NUMERAL}]+)(?:张|份|个|次)")
# What makes a number approximate: 几百, 300多, 上千, 约300.
_APPROXIMATE_AFTER = re.compile("^(?:多|余|来|几|\\+|左右|上下|出头|不止|起)")
_APPROXIMATE_BEFORE = re.compile("(?:几|上|近|约|好)$")
_APPROXIMATE_CLAUSE = re.compile("大约|大概|差不多|至少|左右|上下|不少于")
_NUMBER = re.compile(
    f"\\d[\\d,]*(?:\\.\\d+)?(?:[kw百千万亿][\\d{_NUMERAL}]*)?|[{_NUMERAL}]+(?:点[{_NUMERAL}]+)?"
)
_CLAUSES = re.compile(r"[。!?;、~\n]+|(?<!\d)[.,]|[.,](?!\d)")
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


@dataclass(frozen=True)
class Promise:
    """Money a text promises: the largest amount, and whether it could be read for certain."""

    fen: int = 0
    certain: bool = True


def prepare(text: str) -> str:
    """The text as the check reads it: NFKC, Simplified, case-folded, nothing invisible, no spaces.

    Line breaks become full stops first (they end a sentence).
    """
    text = unicodedata.normalize("NFKC", text.replace("\r", "\n").replace("\n", "。"))
    kept = [
        char
        for char in text
        if not char.isspace()
        and char not in _INVISIBLE
        and unicodedata.category(char) not in ("Cf", "Mn", "Me", "Cc", "Co", "Cn")
    ]
    return to_simplified("".join(kept)).casefold()


def _fen(value: Decimal) -> int:
    return int(value * 100)


def _starts(text: str, words: Iterable[str]) -> Optional[str]:
    return next((word for word in words if text.startswith(word)), None)


def _ends(text: str, words: Iterable[str]) -> Optional[str]:
    return next((word for word in words if text.endswith(word)), None)


def _amounts(clause: str, bare: bool) -> Tuple[List[int], bool]:
    """The amounts in a clause (fen) and whether one of them cannot be read for certain.

    Args:
        clause: A prepared clause.
        bare: Whether numbers without a currency count as yuan (compensation is spoken of).
    """
    found: List[int] = []
    certain = True
    for match in _NUMBER.finditer(clause):
        number, before, after = match.group(0), clause[: match.start()], clause[match.end() :]
        digits = number[0].isdigit()
        foreign = _starts(after, _FOREIGN_AFTER) or _ends(before, _FOREIGN_BEFORE)
        currency = _starts(after, _CURRENCY_AFTER) or _ends(before, _CURRENCY_BEFORE)
        tenths = _starts(after, _TENTHS)
        if before.endswith(("第", "#", "no", "尾号", "满")):
            continue  # an ordinal, a phone tail or a threshold (满300减30)
        if not (foreign or currency) and (
            re.search("[a-z_]$", before) or re.match("[a-z_]", after)
        ):
            continue  # part of an identifier (E20240610001)
        if digits and (re.match(r"[-/:]\d", after) or re.search(r"\d[-/:]$", before)):
            continue  # a date, a time or a phone number
        if not (foreign or currency or tenths):
            if _COUNTS.match(after) or not bare:
                continue
            if not digits and all(char in "十百千万亿" for char in number):
                continue  # 万分抱歉, 千万别急: a unit alone is no number
            if not digits and len(number) > 8:
                continue
        value = read_amount(number)
        if value is None or foreign:
            certain = False
            continue
        if _APPROXIMATE_AFTER.match(after) or _APPROXIMATE_BEFORE.search(before):
            certain = False
        if _APPROXIMATE_CLAUSE.search(clause):
            certain = False
        found.append(_fen(value / 10 if tenths and not currency else value))
    return found, certain


def _coupons(clause: str) -> int:
    """How many coupons or payments a clause counts (送您3张券), 1 when it counts none."""
    counts = [read_amount(m.group(1)) for m in _COUPONS.finditer(clause)]
    return max([1, *(int(c) for c in counts if c is not None and c == int(c) and c < 1000)])


def read_promise(text: object, earlier: object = "") -> Promise:
    """The compensation a text promises, and whether it could be read for certain.

    Args:
        text: An agent's message (Simplified or Traditional, any width).
        earlier: The agent's previous message in the conversation: compensation spoken of there
            makes this message's amounts compensation too.

    Returns:
        The promise; `Promise(0, True)` when the text promises no compensation.
    """
    prepared = prepare(text) if isinstance(text, str) else ""
    context = prepare(earlier) if isinstance(earlier, str) else ""
    if not COMPENSATION.search(prepared) and not COMPENSATION.search(context):
        return Promise()
    certain = not RELATIVE.search(prepared)
    counted: List[int] = []
    excluded = False
    count = 1
    for clause in filter(None, _CLAUSES.split(prepared)):
        spoken = bool(COMPENSATION.search(clause))
        if not spoken and PRICE_OR_REFUND.search(clause):
            excluded = excluded or bool(_amounts(clause, bare=False)[0])
            continue
        amounts, readable = _amounts(clause, bare=True)
        counted.extend(amounts)
        certain = certain and readable
        count = max(count, _coupons(clause))
    if not counted and excluded:
        certain = False  # compensation spoken of, and the only amounts are the price's
    return Promise(max(counted, default=0) * count, certain)


def promised_compensation_fen(text: object, earlier: object = "") -> int:
    """The largest amount of money a text promises as compensation (0 when none).

    Args:
        text: An agent's message.
        earlier: The agent's previous message (see `read_promise`).

    Returns:
        The amount in fen.
    """
    return read_promise(text, earlier).fen


def within_authority(amount_fen: int, limit_fen: int) -> bool:
    """Whether an agent with `limit_fen` may grant `amount_fen` alone."""
    return amount_fen <= limit_fen


def refusal(text: object, limit_fen: int, earlier: object = "", suggested_fen: int = 0) -> str:
    """Why an agent may not send a text, or "" when they may.

    Args:
        text: What the agent is about to send.
        limit_fen: The agent's compensation authority.
        earlier: The agent's previous message in the conversation.
        suggested_fen: The compensation of the suggestion the text edits, if any.

    Returns:
        `compensation_unclear` (the amount cannot be read for certain), `above_authority`,
        or "".
    """
    promise = read_promise(text, earlier)
    if not promise.certain:
        return "compensation_unclear"
    if not within_authority(max(promise.fen, int(suggested_fen or 0)), limit_fen):
        return "above_authority"
    return ""
