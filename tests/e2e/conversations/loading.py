"""Reading the conversation files: one YAML file per topic, checked strictly while loading.

A file holds ``topic`` and ``conversations``; each conversation names who is writing
(``customer``: anonymous or signed_in), the demo orders it needs by kind (``orders``, see
``shop_facts.ORDER_KINDS``), optionally the product page it is written from (``page``, a
product code), a ``known_failure`` cause, and its ``turns``. A turn is what the customer types
(``say``) or the button they press (``click``, part of a button's title), the details it gives
(``gives``, besides the order numbers and phone tails its placeholders give), and what the
replies must show (``expect``, see ``checks.EXPECT_KEYS``). Unknown keys are refused, so a typo
in a check cannot pass silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

HERE = Path(__file__).resolve().parent
CUSTOMERS = ("anonymous", "signed_in")
# One file per topic, named for it.
TOPIC_FILES = (
    "presale",
    "orders",
    "logistics",
    "aftersale",
    "installation",
    "personas",
    "mixed",
    "invoices",
    "membership",
    "service",
)
# Details a customer can give and the bot can ask for (the form slots of domain.yml).
DETAILS = (
    "order_id",
    "phone_tail",
    "product",
    "height",
    "weight",
    "city",
    "date",
    "install_slot",
    "exchange_size",
    "return_reason",
    "return_item",
    "return_tracking_number",
    "invoice_title",
    "complaint_description",
    "complaint_demand",
    "order_change",
    "order_change_detail",
)
CONVERSATION_KEYS = {"id", "title", "customer", "orders", "page", "known_failure", "turns"}
TURN_KEYS = {"say", "click", "page", "gives", "expect"}
NO_PAGE = "none"


class ConversationFileError(ValueError):
    """A conversation file does not follow the format."""


@dataclass(frozen=True)
class OrderWant:
    """A demo order a conversation needs: its kind, and whose it must be."""

    kind: str
    owner: Optional[str] = None  # the name of another order of the same customer


@dataclass(frozen=True)
class Turn:
    """One customer message (typed or a button pressed) and what its replies must show."""

    say: Optional[str] = None
    click: Optional[str] = None
    page: Optional[str] = None  # product code, NO_PAGE, or None for the conversation's page
    gives: Tuple[str, ...] = ()
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    """One conversation of the suite."""

    id: str
    topic: str
    title: str
    turns: Tuple[Turn, ...]
    customer: str = "anonymous"
    orders: Mapping[str, OrderWant] = field(default_factory=dict)
    page: Optional[str] = None
    known_failure: Optional[str] = None
    source: str = ""


def _fail(where: str, problem: str) -> None:
    raise ConversationFileError(f"{where}: {problem}")


def _turn(raw: Any, where: str, expect_keys: frozenset) -> Turn:
    if not isinstance(raw, dict):
        _fail(where, "a turn must be a mapping")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        _fail(where, f"unknown turn keys {sorted(unknown)}")
    if ("say" in raw) == ("click" in raw):
        _fail(where, "a turn has exactly one of say and click")
    gives = tuple(raw.get("gives") or ())
    for detail in gives:
        if detail not in DETAILS:
            _fail(where, f"unknown detail {detail!r} in gives")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        _fail(where, "expect must be a mapping")
    unknown = set(expect) - expect_keys
    if unknown:
        _fail(where, f"unknown checks {sorted(unknown)}")
    options = [expect] + [o for o in expect.get("any_of") or [] if isinstance(o, dict)]
    for option in options[1:]:
        unknown = set(option) - expect_keys
        if unknown or "any_of" in option:
            _fail(where, f"any_of: unknown or nested checks {sorted(unknown) or ['any_of']}")
    for option in options:
        for key in ("asks", "not_asks"):
            for detail in _as_list(option.get(key)):
                if detail not in DETAILS:
                    _fail(where, f"unknown detail {detail!r} in {key}")
    text = raw.get("say", raw.get("click"))
    if not isinstance(text, str) or not text.strip():
        _fail(where, "say/click must be non-empty text")
    return Turn(
        say=raw.get("say"),
        click=raw.get("click"),
        page=None if raw.get("page") is None else str(raw["page"]),
        gives=gives,
        expect=expect,
    )


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _orders(raw: Any, where: str, kinds: frozenset) -> Dict[str, OrderWant]:
    wants: Dict[str, OrderWant] = {}
    for name, spec in (raw or {}).items():
        if isinstance(spec, str):
            spec = {"kind": spec}
        if not isinstance(spec, dict) or set(spec) - {"kind", "owner"}:
            _fail(where, f"order {name!r}: give a kind, or kind and owner")
        if spec.get("kind") not in kinds:
            _fail(where, f"order {name!r}: unknown kind {spec.get('kind')!r}")
        owner = spec.get("owner")
        if owner is not None and owner not in wants:
            _fail(where, f"order {name!r}: owner {owner!r} must be an order listed before it")
        wants[str(name)] = OrderWant(spec["kind"], owner)
    return wants


def load_file(path: Path, expect_keys: frozenset, kinds: frozenset) -> List[Conversation]:
    """The conversations of one topic file.

    Args:
        path: The YAML file.
        expect_keys: The checks a turn may name.
        kinds: The order kinds a conversation may ask for.

    Returns:
        Its conversations, in file order.

    Raises:
        ConversationFileError: when the file does not follow the format.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as broken:
        raise ConversationFileError(f"{path.name}: {broken}") from None
    topic = document.get("topic")
    if not topic or not isinstance(document.get("conversations"), list):
        _fail(path.name, "a file needs a topic and a list of conversations")
    if topic != path.stem or topic not in TOPIC_FILES:
        _fail(path.name, f"topic {topic!r}: the file is named for its topic, one of {TOPIC_FILES}")
    found = []
    for index, raw in enumerate(document["conversations"]):
        where = f"{path.name}[{index}] {raw.get('id', '?') if isinstance(raw, dict) else ''}"
        if not isinstance(raw, dict):
            _fail(where, "a conversation must be a mapping")
        unknown = set(raw) - CONVERSATION_KEYS
        if unknown:
            _fail(where, f"unknown keys {sorted(unknown)}")
        if not raw.get("id") or not raw.get("title") or not raw.get("turns"):
            _fail(where, "id, title and turns are required")
        customer = raw.get("customer", "anonymous")
        if customer not in CUSTOMERS:
            _fail(where, f"customer must be one of {CUSTOMERS}")
        turns = tuple(
            _turn(turn, f"{where} turn {n + 1}", expect_keys) for n, turn in enumerate(raw["turns"])
        )
        if turns[0].click is not None:
            _fail(where, "the first turn cannot press a button")
        found.append(
            Conversation(
                id=str(raw["id"]),
                topic=str(topic),
                title=str(raw["title"]),
                turns=turns,
                customer=customer,
                orders=_orders(raw.get("orders"), where, kinds),
                page=raw.get("page"),
                known_failure=raw.get("known_failure"),
                source=path.name,
            )
        )
    return found


def load_all(expect_keys: frozenset, kinds: frozenset, folder: Path = HERE) -> List[Conversation]:
    """Every conversation of every topic file in the folder, ids unique.

    Raises:
        ConversationFileError: when a file does not follow the format or an id repeats.
    """
    conversations: List[Conversation] = []
    for path in sorted(folder.glob("*.yml")):
        conversations.extend(load_file(path, expect_keys, kinds))
    seen: Dict[str, str] = {}
    for conversation in conversations:
        if conversation.id in seen:
            _fail(conversation.source, f"id {conversation.id!r} also in {seen[conversation.id]}")
        seen[conversation.id] = conversation.source
    return conversations
