"""The one product resolver: which product the customer means, or that they must say which.

Sources, newest first: the latest message (its words, then its `product` entities), the
`product` slot, then what the customer named earlier in the session (`product` entities and slot
values, and model codes or names in their words), and the product page the message was sent from
(`page_product_id` in the message's metadata, when the channel passes it on).

- A product named unmistakably (a model code, a full name) is taken, and only that product.
- A vague name (油烟机, 这款衬衫) is narrowed to a product named earlier or the page's product when
  that is one of its candidates; a message speaking of "this one" (这个, 这件, 这款) from a product
  page means the page's product even when a word of it names another kind (灶台 in "这个装多高
  我家灶台上面空间不够"); otherwise the customer is asked which one, with buttons.
- A message naming no product, sent from another product page than the customer's message before
  it, is about the product now on screen, not the one named on the page they left.
- A name or model the shop does not sell is said so, never replaced by another product; so is
  the thing of a "do you sell X" question (有卖空气炸锅吗) that names nothing in the catalogue.

The forms that need a product (`product_form`, `size_advice_form`) take it from here too
(`slot_value`), so a product the entity extractor missed is never asked for again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from shop.conversation import customer_words, intent_name, is_external
from shop.db.models import Product
from shop.repository.catalog import get_product
from shop.repository.product_match import (
    ProductMatch,
    catalogue,
    match_text,
    refers_to_this,
    sold_question_subject,
)

PAGE_PRODUCT_KEY = "page_product_id"
MAX_CHOICES = 10
MIN_COMMON_NAME = 2
NAME_SEPARATOR = "、"
FOUND, ASK, NOT_SOLD, NONE = "found", "ask", "not_sold", "none"


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving the product of a conversation.

    Attributes:
        status: "found" (one product), "ask" (several fit: ask which), "not_sold" (named, but
            nothing the shop sells) or "none" (no product spoken of).
        product: The product when found.
        candidates: The products that fit (one when found, several to ask about).
        asked: What the customer called it (for the answers).
        suggestions: Products like a name the shop does not sell.

    """

    status: str
    product: Optional[Product] = None
    candidates: Tuple[Product, ...] = ()
    asked: str = ""
    suggestions: Tuple[Product, ...] = ()


def _entity_values(message: Dict[str, Any]) -> List[str]:
    parsed = message.get("parse_data") or message
    return [
        str(e["value"])
        for e in parsed.get("entities") or []
        if e.get("entity") == "product" and e.get("value")
    ]


def _message_match(products: Sequence[Product], message: Dict[str, Any]) -> ProductMatch:
    """What one customer message names: its words (model codes, names), then its entities."""
    words = "" if is_external(message) else customer_words(message)
    said = match_text(products, words, whole_message=True)
    if said.codes or said.product is not None:
        return said
    named = [match_text(products, value) for value in _entity_values(message)]
    for match in named:
        if match.products:
            both = tuple(p for p in match.products if p in said.products)
            return replace(match, products=both or match.products)
    if said.products:
        return said
    if named:
        return named[0]
    return _sold_question_match(products, words)


def _sold_question_match(products: Sequence[Product], words: str) -> ProductMatch:
    """What a "do you sell X" question names: X matched as a name (typos too), else nothing sold."""
    thing = sold_question_subject(words)
    if not thing:
        return ProductMatch("")
    return replace(match_text(products, thing), text=thing)


def _earlier_matches(products: Sequence[Product], tracker: Tracker) -> Iterator[ProductMatch]:
    """What was named before the latest message in this session, newest first."""
    events = list(tracker.events or [])
    if events and events[-1].get("event") == "user":
        events = events[:-1]  # the latest message is read on its own
    for event in reversed(events):
        kind = event.get("event")
        if kind == "session_started":
            return
        if kind == "slot" and event.get("name") == "product" and event.get("value"):
            yield match_text(products, event["value"])
        elif kind == "user":
            yield _message_match(products, event)


def _latest_words(tracker: Tracker) -> str:
    return customer_words(tracker.latest_message or {})


def _page_id(message: Dict[str, Any]) -> Any:
    metadata = message.get("metadata") or {}
    return metadata.get(PAGE_PRODUCT_KEY) if isinstance(metadata, dict) else None


def _came_to_page(tracker: Tracker) -> bool:
    """Whether the latest message was sent from another page than the customer's message before.

    Products named before then were named on another page: the product now on screen is meant.
    """
    said = []
    for event in tracker.events or []:
        if event.get("event") == "session_started":
            said = []
        elif event.get("event") == "user" and not is_external(event):
            said.append(event)
    if len(said) < 2:
        return False
    return _page_id(said[-2]) != _page_id(tracker.latest_message or {})


def _page_product(session: Session, tracker: Tracker) -> Optional[Product]:
    value = _page_id(tracker.latest_message or {})
    return get_product(session, value) if value is not None else None


def resolve(session: Session, tracker: Tracker) -> Resolution:
    """Which product the conversation is about now (see the module's rules).

    Args:
        session: Open session.
        tracker: The conversation.

    Returns:
        The resolution; never a product other than the one named when a name or model is given.

    """
    products = catalogue(session)
    latest = _message_match(products, tracker.latest_message or {})
    page = _page_product(session, tracker)
    names_nothing = not latest.names_something and not latest.suggestions and not latest.query
    if names_nothing and page is not None and _came_to_page(tracker):
        return Resolution(FOUND, page, (page,), "")
    slot = str(tracker.get_slot("product") or "").strip()
    current = latest
    if not latest.names_something and not latest.suggestions and slot:
        current = match_text(products, slot)
    # read lazily, newest first: most messages name their product, and then nothing earlier is
    # read; after an earlier match is taken, the iterator goes on with the older ones
    earlier = _earlier_matches(products, tracker)
    if not current.names_something and not current.suggestions and not current.query:
        current = next((m for m in earlier if m.names_something), current)
    if current.product is not None:
        return Resolution(FOUND, current.product, current.products, current.query)
    if current.products:
        known = [m.product for m in earlier if m.product is not None] + [page]
        meant = next((p for p in known if p is not None and p in current.products), None)
        if meant is not None:
            return Resolution(FOUND, meant, (meant,), current.query)
        if page is not None and not current.codes and refers_to_this(_latest_words(tracker)):
            return Resolution(FOUND, page, (page,), current.query)
        return Resolution(ASK, None, current.products, current.query)
    if current.codes or current.query:
        asked = current.text or NAME_SEPARATOR.join(sorted(current.codes))
        return Resolution(NOT_SOLD, None, (), asked, current.suggestions)
    if page is not None:
        return Resolution(FOUND, page, (page,), "")
    return Resolution(NONE)


def _common_name(products: Sequence[Product]) -> str:
    """What the candidates are all called, or "".

    The shared end of their names (衬衫 of 纯棉白衬衫 and 男士商务衬衫), else their category (奶粉).
    """
    names = [p.name for p in products]
    shared = os.path.commonprefix([name[::-1] for name in names])[::-1] if names else ""
    if len(shared) >= MIN_COMMON_NAME and not shared.isascii():
        return shared
    kinds = {p.category for p in products if p.category}
    return kinds.pop() if len(kinds) == 1 else ""


def slot_value(session: Session, tracker: Tracker) -> Optional[str]:
    """What the `product` slot holds for the conversation when no entity filled it, or None.

    The product found (its name); for several candidates what they are all called (衬衫, 油烟机,
    `_common_name`), else what the customer called it, so the action after the form asks which one with buttons; for
    a product the shop does not sell what was named, so that action says it is not sold.

    Args:
        session: Open session.
        tracker: The conversation.

    Returns:
        The slot's value, or None when no product is spoken of.

    """
    resolution = resolve(session, tracker)
    if resolution.product is not None:
        return resolution.product.name
    if resolution.status == ASK:
        return _common_name(resolution.candidates) or resolution.asked or None
    if resolution.status == NOT_SOLD:
        return resolution.asked or None
    return None


def choices(tracker: Tracker, products: Sequence[Product]) -> List[Dict[str, str]]:
    """Buttons naming the products; each repeats the customer's request for that product."""
    intent = intent_name(tracker.latest_message or {})
    buttons = []
    for product in list(products)[:MAX_CHOICES]:
        entity = json.dumps({"product": product.name}, ensure_ascii=False)
        payload = f"/{intent}{entity}" if intent else product.name
        buttons.append({"title": product.name, "payload": payload})
    return buttons


def answer_unresolved(
    dispatcher: CollectingDispatcher, tracker: Tracker, resolution: Resolution
) -> None:
    """Asks which product (with buttons) or says the shop does not sell what was named."""
    if resolution.status == ASK:
        dispatcher.utter_message(
            response="utter_ask_product",
            product=resolution.asked,
            candidates=NAME_SEPARATOR.join(p.name for p in resolution.candidates[:MAX_CHOICES]),
            choices=choices(tracker, resolution.candidates),
        )
    elif resolution.status == NOT_SOLD and resolution.suggestions:
        dispatcher.utter_message(
            response="utter_product_not_found",
            product=resolution.asked,
            suggestions=NAME_SEPARATOR.join(p.name for p in resolution.suggestions),
            choices=choices(tracker, resolution.suggestions),
        )
    elif resolution.status == NOT_SOLD:
        dispatcher.utter_message(
            response="utter_product_not_found_no_suggestions", product=resolution.asked
        )
    else:
        dispatcher.utter_message(response="utter_ask_product")


def product_or_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Session
) -> Optional[Product]:
    """The product meant; else asks which one, or says it is not sold, and gives None."""
    resolution = resolve(session, tracker)
    if resolution.product is None:
        answer_unresolved(dispatcher, tracker, resolution)
    return resolution.product
