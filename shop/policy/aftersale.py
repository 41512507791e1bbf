"""After-sale policy as pure functions: windows, labels, complaint classification, parsing.

Nothing here touches the database; the actions feed it rows and facts. Customer-facing labels
live in `aftersale_labels.yml` next to this module and are read when first asked for.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from shop.policy.compensation import FRONTLINE_LIMIT_FEN

NO_REASON_RETURN_DAYS = 7
QUALITY_RETURN_DAYS = 15
PRICE_PROTECTION_DAYS = 15
INVOICE_ISSUE_HOURS = 24
REFUND_ARRIVAL_DAYS = 3
MODIFIABLE_STATES = ("unpaid", "paid")
RECEIVED_STATES = ("delivered", "completed")
LABELS_FILE = Path(__file__).with_name("aftersale_labels.yml")

# Compensation (fen) that goes with a complaint option; options not listed cost nothing extra.
OPTION_COMPENSATION_FEN = {"keep_with_compensation": 2000, "coupon_10": 1000, "coupon_20": 2000}

_ATTITUDE = re.compile(r"态度|骂|敷衍|不理|爱答不理|不耐烦|凶|服务差|回复慢|不回|甩脸")
_LOGISTICS = re.compile(r"快递|物流|配送|派送|送货|驿站|包裹|丢件|丢了|签收|没送|没收到|运输")
_HIGH = re.compile(
    r"漏气|起火|着火|爆炸|冒烟|触电|漏电|受伤|烫伤|过敏|变质|发霉|中毒|拉肚子|吃坏|"
    r"12315|消协|工商|起诉|律师|媒体|曝光|投诉到平台"
)
_MEDIUM = re.compile(r"坏|破|裂|漏|不能用|用不了|丢|态度|骂|异味|开线|色差|假|少发|错发|划痕")
_MONEY = re.compile(r"(\d+(?:\.\d{1,2})?)\s*(?:元|块|rmb|¥)|[¥￥]\s*(\d+(?:\.\d{1,2})?)", re.I)
_MULTIPLE = re.compile(r"[三五十]倍|假一赔|全额赔|精神损失|赔偿损失")
_CANCEL = re.compile(r"取消|不要了|不想要了|撤销|不买了|退单")
# "先别取消", "我不想取消了", "不用撤销", "别给我退单": a negated cancel is no cancellation
# ("要不取消吧" and "要不要取消" suggest or ask about cancelling: not negated).
_NOT_CANCEL = re.compile(
    r"(?<!要)(?:别|不要|不用|不必|无需|甭|不想|不打算|不|没说|没想)"
    r"(?:[先再要想用去]|给我|帮我|跟我|替我)*(?:取消|撤销|退单)"
)
_ADDRESS = re.compile(r"地址|收货人|门牌|小区|搬家|寄到|送到|楼|单元|路|街")
_SPEC = re.compile(r"颜色|尺码|码|规格|型号|口味|款式|换成|改成|色")


@lru_cache(maxsize=1)
def labels() -> Dict[str, Any]:
    """Return the label tables from `aftersale_labels.yml` (read once, on first use)."""
    with LABELS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def label(table: str, key: Optional[str]) -> Optional[str]:
    """Return the label of a code in one table, or None for an unknown code."""
    if key is None:
        return None
    return labels().get(table, {}).get(key)


def return_condition(category: Optional[str]) -> str:
    """Return what a no-reason return of a product category requires."""
    table = labels()["return_condition"]
    return table.get(category or "", table["default"])


def return_window_days(quality_issue: bool) -> int:
    """Days from delivery within which a return is accepted (longer for a quality issue)."""
    return QUALITY_RETURN_DAYS if quality_issue else NO_REASON_RETURN_DAYS


def return_deadline(delivered_at: Optional[datetime], quality_issue: bool) -> Optional[datetime]:
    """The last moment a return is accepted, or None before delivery."""
    if delivered_at is None:
        return None
    return delivered_at + timedelta(days=return_window_days(quality_issue))


def classify_complaint(text: str) -> Tuple[str, str]:
    """Return (category, severity) of a complaint from what the customer wrote.

    Category: attitude when the words are about people, logistics when about the parcel,
    otherwise quality. Severity: high for safety, health and public escalation, medium for
    broken goods, lost parcels and rudeness, low otherwise.
    """
    category = (
        "attitude"
        if _ATTITUDE.search(text)
        else "logistics"
        if _LOGISTICS.search(text)
        else "quality"
    )
    severity = "high" if _HIGH.search(text) else "medium" if _MEDIUM.search(text) else "low"
    return category, severity


def demanded_amount_fen(text: str) -> Optional[int]:
    """Return the largest amount of money named in a demand, in fen, or None."""
    amounts = [
        int(Decimal(a or b) * 100)
        for a, b in _MONEY.findall(text.replace(",", "").replace("，", ""))
        if (a or b)
    ]
    return max(amounts) if amounts else None


def beyond_frontline(demand: str, severity: str, limit_fen: int = FRONTLINE_LIMIT_FEN) -> bool:
    """Whether a complaint needs a supervisor: a safety issue or a demand above the limit."""
    amount = demanded_amount_fen(demand)
    return (
        severity == "high"
        or bool(_MULTIPLE.search(demand))
        or (amount is not None and amount > limit_fen)
    )


def complaint_options(category: str, severity: str = "low") -> List[Tuple[str, str]]:
    """Return the (code, label) options the frontline may offer for a complaint.

    A serious complaint (safety, health, a public escalation) is not offered a coupon: whatever
    its category, the options are a supervisor's call, a return with pick-up, or an inspection
    after which a supervisor settles the compensation (all of them escalated).
    """
    if severity == "high":
        return list(labels()["complaint_options_serious"].items())
    return list(labels()["complaint_options"][category].items())


def pick_option(text: str, options: List[Tuple[str, str]]) -> Optional[str]:
    """Return the code of the option the customer picked: by label, code or number (1-3)."""
    cleaned = (text or "").strip()
    for code, title in options:
        if cleaned in (code, title) or (len(cleaned) >= 2 and cleaned in title):
            return code
    digits = re.findall(r"\d", cleaned)
    ordinals = {"一": 1, "二": 2, "两": 2, "三": 3}
    found = re.search(r"第?([一二两三])个|方案([一二两三])", cleaned)
    index = int(digits[0]) if len(digits) == 1 else None
    if found:
        index = ordinals[found.group(1) or found.group(2)]
    if index is not None and 1 <= index <= len(options):
        return options[index - 1][0]
    return None


def cancel_negated(text: str) -> bool:
    """Whether the customer says not to cancel ("先别取消", "不取消了", "我不想取消了")."""
    return bool(_NOT_CANCEL.search(text or ""))


def classify_change(text: str) -> Optional[str]:
    """Return what the customer wants to change: cancel, address or spec (None if unclear).

    A negated cancel ("先别取消订单，我想改地址") is no cancellation: what else the message
    asks for decides, and a bare "不取消了" is unclear (None).
    """
    text = _NOT_CANCEL.sub("，", text or "")
    if _CANCEL.search(text):
        return "cancel"
    if "地址" in text or "收货人" in text:
        return "address"
    if _SPEC.search(text):
        return "spec"
    if _ADDRESS.search(text):
        return "address"
    return None


def mask_address(text: str) -> str:
    """Keep an address's area and street name, masking house numbers (no full address stored)."""
    compact = " ".join((text or "").split())[:60]
    return re.sub(r"\d+", "**", compact)


def price_protection_end(paid_at: datetime) -> datetime:
    """The end of the price protection window that starts with payment."""
    return paid_at + timedelta(days=PRICE_PROTECTION_DAYS)


def refund_expected_by(refunded_at: datetime) -> datetime:
    """The latest moment a refund reaches a bank card (wallets get it at once)."""
    return refunded_at + timedelta(days=REFUND_ARRIVAL_DAYS)
