"""What a detail the customer types is: told apart by its format first, the words around it second.

One place decides whether a run of digits or letters is an order number, a phone tail, a mobile
number, a parcel's tracking number, an anti-counterfeit code, a height, a weight or a size, so
that a slot is never filled with a value of another kind (pure functions, no I/O):

- order number: 13 digits starting with 20 (the shop's format), whatever word stands before it
  (单号 2024… is still an order number);
- mobile number: 11 digits 1[3-9]… (also written 138 1234 5678, 138-1234-5678, +86…): never a
  phone tail nor a parcel; only its last four digits are kept (`Details.mobile_tails`), and the
  caller may take them as the tail when the tail is what was asked for;
- anti-counterfeit code: 16 digits;
- tracking number: letters followed by 8 or more digits (SF…, YT…, RR…CN), a known carrier's
  digit format (`shop/policy/carriers.yml`), or 8-32 digits after 单号/运单/快递 or while a
  tracking number is asked for;
- phone tail: four digits after 尾号/后四位/末四码/手机…, the one other number next to an order
  number, or four bare digits while the tail is asked for; never four digits with a unit after
  them (2024年, 1688元) or a house number (文三路1234号);
- height and weight: numbers with their units or keywords (身高165, 165cm, 一米七, 55kg, 110斤;
  a bare 140-199 beside a weight is the height);
- size: letter sizes (S … 6XL), numbers with 码 (38码), 均码, 大一码/小一码.

`new_address` takes the filler words off a new address (改成, 换成, 改为 …), and
`tracking_attempt` tells whether a reply holds anything meant as a tracking number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from shop.policy.refunds import carrier_of
from shop.text.normalise import normalise
from shop.text.parsing import chinese_number, parse_height_cm, parse_weight_kg
from shop.text.segment import pipeline_text

ORDER_ID = "order_id"
PHONE_TAIL = "phone_tail"
MOBILE = "mobile"
TRACKING_NUMBER = "tracking_number"
AUTH_CODE = "auth_code"
HEIGHT = "height"
WEIGHT = "weight"
SIZE = "size"
# Slots asking for a tracking number (the requested slot names the context).
TRACKING_SLOTS = frozenset({"tracking_number", "return_tracking_number"})
SIZE_SLOTS = frozenset({"size", "exchange_size"})
# A weight written without 体重 is a body's only from this many kilograms (买10斤 is goods).
MIN_UNMARKED_KG = 25

_MOBILE = re.compile(r"(?<![0-9a-z])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])")
_ORDER = re.compile(r"(?<![0-9a-z])20\d{11}(?![0-9])")
_AUTH = re.compile(r"(?<![0-9a-z])\d{16}(?![0-9a-z])")
_LETTERED = re.compile(r"(?<![0-9a-z])[a-z]{1,4}\d{8,28}(?:[a-z]{2})?(?![0-9a-z])")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_TAIL_WORDS = re.compile(
    r"(尾号|为号|尾数|后四位|后4位|末四位|末4位|后四码|后4码|末四码|末4码|手机号?|电话|号码)"
    r"\s*(是|为|:)?\s*$"
)
_UNIT_AFTER = re.compile(
    r"^\s*(元|块|码|号|cm|厘米|公分|mm|毫米|斤|kg|公斤|千克|克|g|ml|毫升|年|月|日|天|周|件|个|"
    r"w|万|瓦|米|岁|分|次|%|款|型|系列|平|度|箱|包|罐|瓶|盒|袋)"
)
_ADDRESS_BEFORE = re.compile(r"(路|街|道|巷|弄|号楼|栋|幢|单元|室|小区|村|镇|区|门牌)\s*$")
_TRACKING_WORDS = re.compile(
    r"(单号|运单|快递|物流|包裹|退货|寄回|寄出|寄了|顺丰|邮政)[号是为:]*\s*$"
)
_FIGURE = r"(\d{2,3}(?:\.\d)?|[一二两三四五六七八九十百]+)"
_WEIGHT_KEYWORD = re.compile(
    rf"体重\s*(?:是|有|为|:|大概|大约|约)*\s*{_FIGURE}\s*(kg|公斤|千克|斤)?"
)
_WEIGHT_UNIT = re.compile(rf"(?<![\d.]){_FIGURE}\s*(kg|公斤|千克|斤)")
_HEIGHT_KEYWORD = re.compile(
    r"身高\s*(?:是|有|为|:|大概|大约|约)*\s*"
    r"(\d{2,3}(?:\.\d+)?\s*(?:cm|厘米|公分|m|米)?|[1一]\s*(?:米|m|\.)\s*[0-9一二三四五六七八九]{0,2})"
)
_HEIGHT_CM = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(cm|厘米|公分)")
_HEIGHT_METRE = re.compile(
    r"(?<![\d.])(?:([1一])\s*(?:米|m)\s*([0-9一二三四五六七八九]{1,2})?|1\.(\d{1,2})\s*(?:m|米))"
    r"(?![0-9a-z])"
)
_NOT_BODY = re.compile(r"(腰|胸|臀|脚|肩|袖|衣长|裤长|宽|深|尺寸|开孔|孔|长度|直径)\S{0,3}$")
_BARE_HEIGHT = re.compile(r"(?<![\d.])(1[4-9]\d)(?![\d.])")
_LETTER_SIZE = re.compile(r"(?<![a-z0-9])((?:[2-6]x|x{1,4})?[sml])(?![a-z])")
_NUMBER_SIZE = re.compile(r"(?<![\d.])(\d{2,3})\s*码")
_RELATIVE_SIZE = re.compile(r"(大|小)一个?(码|号)")
_SIZE_WORDS = ("均码", "free size", "freesize")
_SIZE_BEFORE = re.compile(r"(换成|换|要|穿|选|拿|改成|改|买|是|成|个|的|尺码|码数|号码|size)\s*$")
_SIZE_VALUE = re.compile(r"((?:[2-6]x|x{1,4})?[sml]|\d{2,3})\s*(码|号)?")
_ADDRESS_FILLER = re.compile(
    r"(?:(?:帮我|麻烦你?|请|我要|我想|想|把|就|收货地址|新的?(?:收货)?地址|地址)(?:是|为)?"
    r"|改成|改为|改到|换成|换为|换到|更改为|更改成|修改为|修改成|变更为|变成|写成|[:,\s])+"
)
_ADDRESS_COURTESY = re.compile(
    r"[\s,.!~]*(谢谢|谢啦|麻烦了|麻烦你了|辛苦了|吧|哈|哦|啊)*[\s,.!~]*$"
)
_ATTEMPT = re.compile(r"[0-9a-z]{6,}")


@dataclass(frozen=True)
class Details:
    """The details one message holds, each kind in the order the customer wrote them.

    Attributes:
        order_ids: Order numbers.
        phone_tails: Phone tails (four digits).
        mobile_tails: The last four digits of every mobile number typed (never the number).
        tracking_numbers: Tracking numbers, upper case.
        auth_codes: Anti-counterfeit codes.
        heights_cm: Heights in centimetres.
        weights_kg: Weights in kilograms.
        sizes: Sizes as the shop writes them (XL, 38, 均码, 大一码).

    """

    order_ids: Tuple[str, ...] = ()
    phone_tails: Tuple[str, ...] = ()
    mobile_tails: Tuple[str, ...] = ()
    tracking_numbers: Tuple[str, ...] = ()
    auth_codes: Tuple[str, ...] = ()
    heights_cm: Tuple[int, ...] = ()
    weights_kg: Tuple[float, ...] = ()
    sizes: Tuple[str, ...] = field(default=())

    def merged(self, other: "Details") -> "Details":
        """These details followed by the other's new ones (no value twice)."""
        return Details(
            *(
                tuple(dict.fromkeys(mine + theirs))
                for mine, theirs in zip(_fields(self), _fields(other), strict=True)
            )
        )

    @property
    def empty(self) -> bool:
        """Whether the message holds no detail at all."""
        return not any(_fields(self))


def _fields(details: Details) -> Tuple[tuple, ...]:
    return (
        details.order_ids,
        details.phone_tails,
        details.mobile_tails,
        details.tracking_numbers,
        details.auth_codes,
        details.heights_cm,
        details.weights_kg,
        details.sizes,
    )


class _Text:
    """The normalised message, with the parts already read blanked out."""

    def __init__(self, text: str) -> None:
        self.chars = list(pipeline_text(str(text or "")))

    @property
    def value(self) -> str:
        return "".join(self.chars)

    def blank(self, start: int, end: int) -> None:
        self.chars[start:end] = " " * (end - start)

    def before(self, start: int, width: int = 10) -> str:
        return self.value[max(0, start - width) : start]

    def after(self, end: int, width: int = 4) -> str:
        return self.value[end : end + width]


def kind_of(value: Any) -> Optional[str]:
    """What a value is by its format alone, or None when the format does not tell.

    Args:
        value: One value as typed (an entity's value, a slot's value).

    Returns:
        ORDER_ID, MOBILE, AUTH_CODE, PHONE_TAIL (exactly four digits), TRACKING_NUMBER (letters
        with 8+ digits, or a carrier's digit format) or None (other digits, words).

    """
    text = re.sub(r"[\s-]", "", normalise(str(value if value is not None else ""))).strip()
    if _ORDER.fullmatch(text):
        return ORDER_ID
    if _MOBILE.fullmatch(text):
        return MOBILE
    if _AUTH.fullmatch(text):
        return AUTH_CODE
    if re.fullmatch(r"\d{4}", text):
        return PHONE_TAIL
    if _LETTERED.fullmatch(text) or (
        text.isdigit() and 8 <= len(text) <= 32 and carrier_of(text.upper()) is not None
    ):
        return TRACKING_NUMBER
    return None


def _read_numbers(text: _Text, asked: Optional[str], hint: Optional[str]) -> dict:
    """Mobiles, order numbers, codes, tracking numbers and tails, blanked out once read."""
    found: dict = {key: [] for key in ("order", "mobile", "auth", "tracking", "tail")}
    for match in list(_MOBILE.finditer(text.value)):
        found["mobile"].append(match.group(3))
        text.blank(*match.span())
    for key, pattern in (("order", _ORDER), ("auth", _AUTH)):
        for match in list(pattern.finditer(text.value)):
            found[key].append(match.group(0))
            text.blank(*match.span())
    for match in list(_LETTERED.finditer(text.value)):
        found["tracking"].append(match.group(0).upper())
        text.blank(*match.span())
    fours = []
    for match in list(_NUMBER.finditer(text.value)):
        digits = match.group(0)
        if not digits.isdigit():
            continue
        if 8 <= len(digits) <= 32:
            told = (
                carrier_of(digits) is not None
                or _TRACKING_WORDS.search(text.before(match.start(), 12))
                or asked in TRACKING_SLOTS
                or hint == TRACKING_NUMBER
            )
            if told:
                found["tracking"].append(digits)
                text.blank(*match.span())
        elif len(digits) == 4:
            fours.append(match)
    for match in fours:
        if _is_tail(
            text, match, asked, hint, beside_order=bool(found["order"]), alone=len(fours) == 1
        ):
            found["tail"].append(match.group(0))
            text.blank(*match.span())
    return found


def _is_tail(
    text: _Text,
    match: "re.Match[str]",
    asked: Optional[str],
    hint: Optional[str],
    *,
    beside_order: bool,
    alone: bool,
) -> bool:
    """Whether four digits are a phone tail, by the words around them."""
    before = text.before(match.start())
    if _TAIL_WORDS.search(before):
        return True
    if _UNIT_AFTER.match(text.after(match.end())) or _ADDRESS_BEFORE.search(before):
        return False
    if asked == PHONE_TAIL or hint == PHONE_TAIL:
        return True
    return beside_order and alone


def _weight_kg(figure: str, unit: Optional[str]) -> Optional[float]:
    number = figure if figure[0].isdigit() else str(chinese_number(figure) or "")
    if not number:
        return None
    return parse_weight_kg(f"{number}{unit or ''}")


def _read_body(text: _Text, asked: Optional[str], hint: Optional[str]) -> dict:
    """Weights, then heights (a bare 140-199 counts beside a weight), blanked out once read."""
    weights: List[float] = []
    heights: List[int] = []
    for pattern in (_WEIGHT_KEYWORD, _WEIGHT_UNIT):
        for match in list(pattern.finditer(text.value)):
            kg = _weight_kg(match.group(1), match.group(2))
            # without 体重, a small weight is an amount of goods (买10斤), not a body
            if kg is not None and (pattern is _WEIGHT_KEYWORD or kg >= MIN_UNMARKED_KG):
                weights.append(kg)
                text.blank(*match.span())
    for pattern in (_HEIGHT_KEYWORD, _HEIGHT_CM, _HEIGHT_METRE):
        for match in list(pattern.finditer(text.value)):
            if pattern is not _HEIGHT_KEYWORD and _NOT_BODY.search(text.before(match.start())):
                continue
            cm = parse_height_cm(match.group(0).replace("身高", ""))
            if cm is not None and (pattern is not _HEIGHT_CM or cm >= 100):
                heights.append(cm)
                text.blank(*match.span())
    if not heights and (weights or asked == HEIGHT or hint == HEIGHT):
        match = _BARE_HEIGHT.search(text.value)
        if match:
            heights.append(int(match.group(1)))
            text.blank(*match.span())
    if not weights and (asked == WEIGHT or hint == WEIGHT):
        kg = parse_weight_kg(text.value)
        if kg is not None:
            weights.append(kg)
    if not heights and asked == HEIGHT:
        cm = parse_height_cm(text.value)
        if cm is not None:
            heights.append(cm)
    return {"heights": heights, "weights": weights}


def size_label(value: Any) -> Optional[str]:
    """A size as the shop writes it (XL, 2XL, 38, 均码, 大一码), or None when it is none.

    Args:
        value: A size as typed (an entity's value, a reply).

    Returns:
        The size, or None for anything that is no size (four digits, an order number, words).

    """
    text = normalise(str(value if value is not None else "")).strip().replace(" ", "")
    if not text or len(text) > 12:
        return None
    if text in _SIZE_WORDS:
        return "均码" if text == "均码" else "FREE SIZE"
    relative = _RELATIVE_SIZE.fullmatch(text)
    if relative:
        return f"{relative.group(1)}一码"
    match = _SIZE_VALUE.fullmatch(text)
    if match is None:
        return None
    size = match.group(1)
    if size.isdigit() and not (20 <= int(size) <= 50 or 59 <= int(size) <= 190):
        return None
    return size.upper()


def _variant_word(value: Any) -> Optional[str]:
    """A size entity that is no clothing size but a variant's word (大码, 液化气, 10ml), or None.

    Digits alone (an order number, a tail, a phone) are never one.
    """
    text = normalise(str(value if value is not None else "")).strip()
    if not text or len(text) > 12 or re.fullmatch(r"[\d\s-]+", text) or kind_of(text):
        return None
    return text


def _read_sizes(text: _Text, asked: Optional[str], hint: Optional[str]) -> List[str]:
    """Sizes in the words: letter sizes (a single S/M/L only where the words say it is one)."""
    value = text.value
    sizes: List[str] = []
    bare = re.sub(r"[\s,.!?~]", "", value)
    for match in _RELATIVE_SIZE.finditer(value):
        sizes.append(f"{match.group(1)}一码")
    for word in _SIZE_WORDS:
        if word in value:
            sizes.append(size_label(word) or word)
    for match in _NUMBER_SIZE.finditer(value):
        label = size_label(match.group(1))
        if label:
            sizes.append(label)
    for match in _LETTER_SIZE.finditer(value):
        token = match.group(1)
        told = (
            len(token) > 1
            or re.match(r"\s*(码|号)", text.after(match.end()))
            or _SIZE_BEFORE.search(text.before(match.start(), 4))
            or bare == token
            or asked in SIZE_SLOTS
            or hint == SIZE
        )
        if told:
            sizes.append(token.upper())
    return sizes


def read_details(
    text: Any, entities: Sequence[Mapping[str, Any]] = (), asked: Optional[str] = None
) -> Details:
    """The details a message holds, each told apart by format and context.

    Args:
        text: The message as the customer typed it (Traditional, full-width: all read alike).
        entities: The NLU's entities of the message: a label is only a hint, the value's format
            decides (a "phone_tail" that is a mobile number is a mobile number).
        asked: The slot the assistant asked for (``requested_slot``), if any: four bare digits
            are the tail while it is asked for, a bare number the height while that is.

    Returns:
        The details found.

    """
    found = _read_one(text, asked, None)
    for entity in entities or ():
        value, label = entity.get("value"), entity.get("entity")
        if value is None or label not in (
            ORDER_ID,
            PHONE_TAIL,
            TRACKING_NUMBER,
            HEIGHT,
            WEIGHT,
            SIZE,
        ):
            continue
        found = found.merged(_read_one(str(value), asked, label))
        if label == SIZE:
            size = size_label(value) or _variant_word(value)
            if size is not None and size not in found.sizes:
                found = replace(found, sizes=found.sizes + (size,))
    return found


def _read_one(text: Any, asked: Optional[str], hint: Optional[str]) -> Details:
    buffer = _Text(str(text or ""))
    numbers = _read_numbers(buffer, asked, hint)
    body = _read_body(buffer, asked, hint)
    sizes = _read_sizes(buffer, asked, hint)
    return Details(
        order_ids=tuple(dict.fromkeys(numbers["order"])),
        phone_tails=tuple(dict.fromkeys(numbers["tail"])),
        mobile_tails=tuple(dict.fromkeys(numbers["mobile"])),
        tracking_numbers=tuple(dict.fromkeys(numbers["tracking"])),
        auth_codes=tuple(dict.fromkeys(numbers["auth"])),
        heights_cm=tuple(dict.fromkeys(body["heights"])),
        weights_kg=tuple(dict.fromkeys(body["weights"])),
        sizes=tuple(dict.fromkeys(sizes)),
    )


def tracking_attempt(text: Any) -> bool:
    """Whether a reply holds something meant as a tracking number (6+ letters or digits in a row).

    "还没寄呢" or "寄了" hold none: the customer is asked for the number, never told it is wrong.
    """
    compact = re.sub(r"[\s-]", "", normalise(str(text or "")))
    return any(re.search(r"\d{4}", token) for token in _ATTEMPT.findall(compact))


def new_address(text: Any) -> str:
    """A new address without the words around it ("改成 南京市…号 谢谢" → "南京市…号").

    Args:
        text: The customer's reply with the new address.

    Returns:
        The address as written (blanks made single), or "" when nothing is left.

    """
    written = " ".join(str(text or "").split())
    value = normalise(written)
    filler = _ADDRESS_FILLER.match(value)
    start = filler.end() if filler else 0
    end = len(value)
    tail = _ADDRESS_COURTESY.search(value, start)
    if tail is not None and tail.start() > start:
        end = tail.start()
    return written[start:end].strip()


def newest(values: Iterable[Any]) -> Optional[Any]:
    """The last of the values, or None."""
    found = list(values)
    return found[-1] if found else None


__all__ = [
    "AUTH_CODE",
    "Details",
    "HEIGHT",
    "MOBILE",
    "ORDER_ID",
    "PHONE_TAIL",
    "SIZE",
    "TRACKING_NUMBER",
    "WEIGHT",
    "kind_of",
    "new_address",
    "newest",
    "read_details",
    "size_label",
    "tracking_attempt",
]
