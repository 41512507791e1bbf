"""What a turn's replies must show, and what no reply may ever do.

Each check named in a turn's ``expect`` is a function here (``EXPECT_CHECKS``) answering a list
of problems, empty when the replies pass. Besides them every turn is checked for being
answered, for template leftovers, for privacy (no full mobile number; no order, parcel, phone or
address of a customer the conversation has not proven to be) and for asking a detail the
customer already gave. Replies are compared in Simplified, half-width form, so a Traditional
customer's answers are checked against the same facts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set

from sqlalchemy import select

from bot.nlg.script import SIMPLIFIED, TRADITIONAL, script_of
from shop.db.models import (
    ComplaintTicket,
    Customer,
    InstallationAppointment,
    InvoiceRequest,
    Order,
    ReturnRequest,
)
from shop.money import yuan
from shop.policy.delivery import STALL_HOURS, dispatch_window
from shop.policy.membership import REFERRAL_REWARD_FEN, level_label, points_value_fen
from shop.settings import load as load_settings
from shop.text.normalise import to_simplified
from tests.e2e.conversations.shop_facts import Binding, ShopFacts, day_forms, local_today

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")
ORDER_NUMBER = re.compile(r"(?<!\d)20\d{11}(?!\d)")
TRACKING = re.compile(r"(?<![A-Z0-9])[A-Z]{2,3}\d{12,13}(?![0-9])")
LEFTOVER = re.compile(r"[{}]|(?<![A-Za-z])(?:None|null)(?![A-Za-z])")
APOLOGY = ("抱歉", "对不起", "不好意思", "歉意", "致歉", "没做好")
PERSON = ("人工", "客服专员", "主管", "专人")
SOLD_OUT = ("缺货", "没货", "无货", "售罄", "卖完", "断货")
IN_STOCK = ("有货", "现货", "库存")
# A response that asks for a detail without being named utter_ask_<detail>.
ASK_ALIASES = {
    "utter_ask_city_for_delivery": "city",
    "utter_ask_order_change": "order_change",
    "utter_ask_order_id_complaint": "order_id",
    "action_ask_return_item": "return_item",
    "action_ask_complaint_option": None,
}
# Responses that say a detail was wrong: asking for it again is right.
RESETS = {
    "utter_order_not_found": ("order_id", "phone_tail"),
    "utter_invalid_order_id": ("order_id",),
    "utter_invalid_phone_tail": ("phone_tail",),
    "utter_invalid_height": ("height",),
    "utter_invalid_weight": ("weight",),
    "utter_invalid_install_date": ("date",),
    "utter_installation_city_not_covered": ("city",),
    "utter_invalid_new_address": ("order_change_detail",),
    "utter_invalid_return_tracking_number": ("return_tracking_number",),
    "utter_return_tracking_is_outbound": ("return_tracking_number",),
    "utter_return_tracking_is_phone": ("return_tracking_number",),
    "utter_invalid_invoice_title": ("invoice_title",),
}
# Details given once stay given for the rest of the conversation, but for the product: what
# "this one" is changes with the topic, so a product counts as given in its own message only.
PER_MESSAGE = {"product"}


def plain(text: str) -> str:
    """Text as the checks compare it: half-width (NFKC) and Simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text or ""))


@dataclass
class TurnRecord:
    """One turn as it happened: what was sent and everything that came back."""

    number: int
    shown: str  # what the customer typed, or "[button] <title>"
    sent: str  # the message sent (a button's payload)
    replies: List[Dict[str, Any]]
    responses: List[str] = field(default_factory=list)
    intent: Optional[str] = None
    confidence: Optional[float] = None
    slots: Dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> List[str]:
        """The reply texts, as the customer sees them."""
        return [r["text"] for r in self.replies if r.get("text")]

    @property
    def plain(self) -> str:
        """All reply texts joined, normalised for comparison."""
        return plain("\n".join(self.texts))

    @property
    def buttons(self) -> List[Dict[str, Any]]:
        """Every button offered in the replies."""
        return [b for r in self.replies for b in r.get("buttons") or []]

    @property
    def cards(self) -> List[Dict[str, Any]]:
        """The cards (custom payloads) among the replies."""
        return [r["custom"] for r in self.replies if isinstance(r.get("custom"), dict)]


@dataclass
class Context:
    """What the checks know about the conversation so far."""

    shop: ShopFacts
    binding: Binding
    started: datetime
    signed_in: bool
    typed: List[str] = field(default_factory=list)  # the customer's messages so far
    typed_orders: Set[str] = field(default_factory=set)
    typed_trackings: Set[str] = field(default_factory=set)
    proven: Set[int] = field(default_factory=set)  # customers the conversation has proven to be
    given: Dict[str, int] = field(default_factory=dict)  # detail -> turn it was given in

    def fill(self, text: str) -> str:
        """A check's text with its placeholders filled, normalised like the replies."""
        return plain(self.shop.fill(str(text), self.binding))


Check = Callable[[Any, TurnRecord, Context], List[str]]


def _alternatives(item: Any) -> List[str]:
    return [str(x) for x in item] if isinstance(item, (list, tuple)) else [str(item)]


def _codes(value: Any) -> List[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def check_mentions(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """Every item appears in the replies (an item that is a list: one of its texts)."""
    problems = []
    for item in value:
        options = [ctx.fill(text) for text in _alternatives(item)]
        if not any(option in record.plain for option in options):
            problems.append(f"does not mention {' / '.join(options)}")
    return problems


def check_absent(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """None of the texts appears in the replies."""
    return [
        f"mentions {ctx.fill(text)!r}"
        for text in _alternatives(value)
        if ctx.fill(text) in record.plain
    ]


def products_named(record: TurnRecord, ctx: Context) -> Set[str]:
    """Codes of the products the reply texts and cards name (longest names first)."""
    text, found = record.plain, set()
    for name, code in ctx.shop.product_names():
        if name in text:
            found.add(code)
            text = text.replace(name, "\0")
    ids = {p.id: code for code, p in ctx.shop.products.items()}
    for card in record.cards:
        if card.get("card") == "product" and card.get("product_id") in ids:
            found.add(ids[card["product_id"]])
    return found


def check_product(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies are about exactly these products: each named, no other named."""
    named = products_named(record, ctx)
    if value in ("none", None):
        return [f"names {sorted(named)} where no product should be named"] if named else []
    wanted = set(_codes(value))
    for code in wanted:
        ctx.shop.product(code)
    problems = [f"does not name {ctx.shop.product(c).name}" for c in sorted(wanted - named)]
    others = named - wanted
    if others:
        names = ", ".join(ctx.shop.product(c).name for c in sorted(others))
        problems.append(f"names another product: {names}")
    return problems


def check_price(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The product's current price is in the replies."""
    price = yuan(ctx.shop.product(str(value)).price_fen)
    if re.search(rf"(?<![\d.]){re.escape(price)}(?![\d])", record.plain):
        return []
    return [f"does not give the price {price} of {ctx.shop.product(str(value)).name}"]


def check_choices(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The customer is offered each of these products to choose from (buttons or text)."""
    offered = plain(
        " ".join(str(b.get("title", "")) + str(b.get("payload", "")) for b in record.buttons)
    )
    problems = []
    for code in _codes(value):
        name = ctx.shop.product(code).name
        if name not in offered and name not in record.plain:
            problems.append(f"does not offer {name} to choose")
    return problems


def asked(record: TurnRecord, ctx: Context) -> Set[str]:
    """The details the replies ask for (responses utter_ask_*, product or order buttons)."""
    details: Set[str] = set()
    for name in record.responses:
        if name in ASK_ALIASES:
            if ASK_ALIASES[name]:
                details.add(ASK_ALIASES[name])
        elif name.startswith(("utter_ask_", "action_ask_")):
            details.add(name.split("_ask_", 1)[1])
    names = {name for name, _ in ctx.shop.product_names()}
    for button in record.buttons:
        words = plain(f"{button.get('title', '')} {button.get('payload', '')}")
        if any(name in words for name in names):
            details.add("product")
        if ORDER_NUMBER.search(words):
            details.add("order_id")
    return details


def check_asks(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies ask for (one of) these details."""
    wanted = set(_codes(value))
    if wanted & asked(record, ctx):
        return []
    return [f"does not ask for {' or '.join(sorted(wanted))}"]


def check_not_asks(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies ask for none of these details."""
    wrong = set(_codes(value)) & asked(record, ctx)
    return [f"asks for {', '.join(sorted(wrong))}"] if wrong else []


def _dispatch_problems(day, record: TurnRecord, what: str) -> List[str]:
    forms = [plain(f) for f in day_forms(day, local_today())]
    if any(form in record.plain for form in forms):
        return []
    return [f"does not give the dispatch day of {what} ({day.isoformat()})"]


def check_order(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies name the order and the facts of its state."""
    order = ctx.binding.orders[str(value)]
    text = record.plain
    problems = [] if order.number in text else [f"does not name order {order.number}"]
    parcel = order.parcel
    if order.state == "unpaid":
        if not any(w in text for w in ("待付款", "未付款", "没付款", "待支付")):
            problems.append("does not say the order is unpaid")
        if yuan(order.payable_fen) not in text:
            problems.append(f"does not give the amount ¥{yuan(order.payable_fen)}")
    elif order.state == "paid":
        problems += _dispatch_problems(order.dispatch_day(), record, f"order {order.number}")
    elif order.state in ("shipped", "delivered", "completed") and parcel is not None:
        if parcel.tracking_number not in text:
            problems.append(f"does not give the tracking number {parcel.tracking_number}")
    elif order.state == "cancelled" and "取消" not in text:
        problems.append("does not say the order was cancelled")
    return problems


def check_parcel(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies give the order's parcel: its number; stalled, an apology and a chase ticket."""
    order = ctx.binding.orders[str(value)]
    parcel = order.parcel
    text = record.plain
    if parcel is None:
        return check_order(value, record, ctx)
    problems = []
    if parcel.tracking_number not in text:
        problems.append(f"does not give the tracking number {parcel.tracking_number}")
    if parcel.status == "delivered" and "签收" not in text:
        problems.append("does not say the parcel was signed for")
    stalled = parcel.status != "delivered" and (
        parcel.last_event_at is not None
        and ctx.shop.now - parcel.last_event_at > timedelta(hours=STALL_HOURS)
    )
    if stalled:
        problems += check_apology(True, record, ctx)
        problems += check_rows(
            [
                {
                    "table": "ticket",
                    "order": str(value),
                    "kind": "logistics_chase",
                    "mentioned": True,
                }
            ],
            record,
            ctx,
        )
    return problems


def check_dispatch(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies give the dispatch day: of an order, or of an order paid now."""
    if str(value) == "now":
        day = dispatch_window(datetime.now(load_settings().tz)).latest
        return _dispatch_problems(day, record, "an order paid now")
    order = ctx.binding.orders[str(value)]
    problems = _dispatch_problems(order.dispatch_day(), record, f"order {order.number}")
    if order.dispatch_day() < local_today():
        problems += check_apology(True, record, ctx)
    return problems


def check_stock(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies give the stock of a product ("CODE") or one variant ("CODE/colour/size")."""
    code, *variant = str(value).split("/")
    product = ctx.shop.product(code)
    text = record.plain
    problems = [] if product.name in text else [f"does not name {product.name}"]
    if not variant:
        if not any(w in text for w in IN_STOCK + SOLD_OUT):
            problems.append("says nothing about stock")
        return problems
    colour, size = (variant + [""])[:2]
    skus = [
        s
        for s in product.skus
        if (s.colour or "") == colour and (not size or (s.size or "") == size)
    ]
    if not skus:
        raise KeyError(f"{value}: no such variant in the demo shop")
    sku = skus[0]
    if sku.stock > 0:
        if str(sku.stock) not in text and not any(w in text for w in ("有货", "现货")):
            problems.append(f"does not say {colour} {size} is in stock ({sku.stock})")
    else:
        if not any(w in text for w in SOLD_OUT):
            problems.append(f"does not say {colour} {size} is sold out")
        if sku.restock_date is not None:
            forms = day_forms(sku.restock_date, local_today())
            if not any(plain(f) in text for f in forms):
                problems.append(f"does not give the restock day {sku.restock_date.isoformat()}")
    return problems


def check_size_for(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The size recommended fits the product's size chart for the height and weight."""
    product = ctx.shop.product(str(value["product"]))
    height, weight = float(value["height"]), float(value["weight"])
    fitting = set()
    for row in product.size_chart or []:
        low_h, high_h = row["height_cm"]
        low_w, high_w = row["weight_kg"]
        if low_h <= height <= high_h or low_w <= weight <= high_w:
            fitting.add(str(row["size"]))
    if not fitting:
        raise ValueError(f"{value}: outside the size chart")
    text = record.plain
    if any(re.search(rf"(?<![A-Z]){size}码", text) for size in fitting):
        return []
    return [f"does not recommend a fitting size ({' or '.join(sorted(fitting))})"]


def check_apology(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The replies apologise (or, with false, do not)."""
    sorry = any(word in record.plain for word in APOLOGY)
    if bool(value) == sorry:
        return []
    return ["does not apologise" if value else "apologises where nothing went wrong"]


def check_person(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """A person is offered or the conversation is put in the agents' queue."""
    offered = (
        any(str(b.get("payload", "")).startswith("/request_human") for b in record.buttons)
        or any(word in record.plain for word in PERSON)
        or bool(record.slots.get("handoff_reason"))
    )
    return [] if offered == bool(value) else ["does not offer a person" if value else "hands off"]


def check_script(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """Every reply text is in the script (traditional or simplified) where the script tells."""
    wrong = [t for t in record.texts if script_of(t) not in (None, value)]
    told = [t for t in record.texts if script_of(t) == value]
    if value not in (TRADITIONAL, SIMPLIFIED):
        raise ValueError(f"unknown script {value!r}")
    if wrong or not told:
        return [f"not answered in {value}: {wrong[0] if wrong else record.texts[:1]}"]
    return []


ROW_TABLES = {
    "ticket": (ComplaintTicket, ComplaintTicket.created_at),
    "return": (ReturnRequest, ReturnRequest.created_at),
    "appointment": (InstallationAppointment, InstallationAppointment.created_at),
    "invoice": (InvoiceRequest, InvoiceRequest.requested_at),
}
ROW_KEYS = {"table", "order", "kind", "status", "refund_state", "none", "mentioned", "existing"}
ROW_KEYS |= {"daytime", "tracking", "state", "title", "tax"}


def check_rows(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """Rows written in the shop database during the conversation (or, with none, not)."""
    problems = []
    tz = load_settings().tz
    for spec in value:
        unknown = set(spec) - ROW_KEYS
        if unknown:
            raise ValueError(f"unknown row keys {sorted(unknown)}")
        order = ctx.binding.orders[spec["order"]]
        if spec["table"] == "order":
            with ctx.shop.session() as session:
                state = session.get(Order, order.id).state
            if state != spec["state"]:
                problems.append(f"order {order.number} is {state}, not {spec['state']}")
            continue
        model, created = ROW_TABLES[spec["table"]]
        query = select(model).where(model.order_id == order.id)
        if not spec.get("existing"):
            query = query.where(created >= ctx.started - timedelta(seconds=2))
        for column in ("kind", "status", "refund_state"):
            if column in spec:
                query = query.where(getattr(model, column) == spec[column])
        with ctx.shop.session() as session:
            rows = list(session.execute(query.order_by(model.id)).scalars())
        what = f"{spec['table']} {dict((k, v) for k, v in spec.items() if k != 'table')}"
        if spec.get("none"):
            if rows:
                problems.append(f"wrote {what} (id {rows[-1].id}), which it must not")
            continue
        if not rows:
            problems.append(f"no {what} written")
            continue
        row = rows[-1]
        if spec.get("mentioned") and not re.search(rf"(?<!\d){row.id}(?!\d)", record.plain):
            problems.append(f"does not give the {spec['table']} number {row.id}")
        if spec.get("title") and ctx.fill(spec["title"]) not in plain(row.title or ""):
            problems.append(f"invoice title recorded as {row.title!r}")
        if spec.get("tax") and (row.tax_number or "").upper() != ctx.fill(spec["tax"]).upper():
            problems.append(f"tax number recorded as {row.tax_number!r}")
        if spec.get("tracking") and row.return_tracking_number != ctx.fill(spec["tracking"]):
            problems.append(f"return parcel recorded as {row.return_tracking_number!r}")
        if spec.get("daytime"):
            deadline = row.contact_deadline.astimezone(tz)
            if not 8 <= deadline.hour < 22 or (deadline.hour == 22 and deadline.minute > 0):
                problems.append(f"call promised at night: {deadline:%Y-%m-%d %H:%M}")
            if f"{deadline:%H:%M}" not in record.plain:
                problems.append(f"does not give the call deadline {deadline:%Y-%m-%d %H:%M}")
    return problems


MEMBER_FACTS = ("level", "points", "value", "card", "referrals")
NO_CARD = ("没有包邮卡", "暂无包邮卡", "未开通", "没有开通", "没开通", "还没有包邮卡")
CARD_ENDED = ("到期", "过期", "失效")


def check_member(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """The signed-in customer's membership facts: level, points (and their value), card, referrals.

    The card: an active one's last day; an expired one said to have ended; none said so.
    Referrals: the reward earned, 10 yuan for each invited friend whose first order shipped.
    """
    wanted = set(_codes(value))
    unknown = wanted - set(MEMBER_FACTS)
    if unknown or ctx.binding.customer_id is None:
        raise ValueError(f"member: unknown facts {sorted(unknown)} or nobody signed in")
    with ctx.shop.session() as session:
        customer = session.get(Customer, ctx.binding.customer_id)
        friends = list(
            session.execute(
                select(Customer).where(Customer.referred_by_id == customer.id)
            ).scalars()
        )
        rewarded = sum(
            1
            for friend in friends
            if any(o.state in ("shipped", "delivered", "completed") for o in friend.orders)
        )
        level, points, until = (
            customer.member_level,
            customer.points,
            customer.free_shipping_card_until,
        )
    text, problems = record.plain, []
    if "level" in wanted and level_label(level) not in text:
        problems.append(f"does not give the level {level_label(level)}")
    if "points" in wanted and not re.search(rf"(?<!\d){points}(?!\d)", text):
        problems.append(f"does not give the points {points}")
    if "value" in wanted:
        worth = yuan(points_value_fen(points))
        if not re.search(rf"(?<![\d.]){re.escape(worth)}(?![\d])", text):
            problems.append(f"does not say the points are worth {worth} yuan")
    if "card" in wanted:
        if until is None:
            if not any(w in text for w in NO_CARD):
                problems.append("does not say there is no free-shipping card")
        elif until > ctx.shop.now:
            day = until.astimezone(load_settings().tz).date()
            if not any(plain(f) in text for f in day_forms(day, local_today())):
                problems.append(f"does not give the card's last day {day.isoformat()}")
        elif not any(w in text for w in CARD_ENDED):
            problems.append("does not say the free-shipping card has expired")
    if "referrals" in wanted:
        earned = yuan(rewarded * REFERRAL_REWARD_FEN)
        if not re.search(rf"(?<![\d.]){re.escape(earned)}(?![\d])", text):
            problems.append(
                f"does not give the referral rewards {earned} yuan ({rewarded} friends)"
            )
    return problems


def check_any_of(value: Any, record: TurnRecord, ctx: Context) -> List[str]:
    """One of several sets of checks passes (for answers that may rightly take either way)."""
    failed = []
    for option in value:
        problems = [p for name, v in option.items() for p in EXPECT_CHECKS[name](v, record, ctx)]
        if not problems:
            return []
        failed.append("; ".join(problems))
    return ["none of the ways passes: " + " | ".join(failed)]


EXPECT_CHECKS: Dict[str, Check] = {
    "mentions": check_mentions,
    "absent": check_absent,
    "product": check_product,
    "price": check_price,
    "choices": check_choices,
    "asks": check_asks,
    "not_asks": check_not_asks,
    "order": check_order,
    "parcel": check_parcel,
    "dispatch": check_dispatch,
    "stock": check_stock,
    "size_for": check_size_for,
    "apology": check_apology,
    "person": check_person,
    "script": check_script,
    "rows": check_rows,
    "member": check_member,
    "any_of": check_any_of,
}
EXPECT_KEYS = frozenset(EXPECT_CHECKS)


# ---- what every turn is checked for


def check_answered(record: TurnRecord) -> List[str]:
    """The customer got an answer, without template leftovers."""
    if not record.texts and not record.cards:
        return ["no reply at all"]
    leftovers = [t for t in record.texts if LEFTOVER.search(t)]
    return [f"template leftover in {leftovers[0]!r}"] if leftovers else []


# Responses saying a number the customer just typed is malformed, and the detail it is.
NUMBER_REFUSALS = {
    "utter_invalid_order_id": "order_id",
    "utter_invalid_phone_tail": "phone_tail",
    "utter_invalid_return_tracking_number": "return_tracking_number",
}


def check_no_phantom_number(record: TurnRecord, gives: Sequence[str]) -> List[str]:
    """A number is called wrong only when the message has one of that kind.

    No 单号不对 for 买多了, and a phone tail is not refused as a parcel's tracking number.
    """
    problems = []
    has_digits = bool(re.search(r"\d", plain(record.sent)))
    for name in record.responses:
        detail = NUMBER_REFUSALS.get(name)
        if detail is None:
            continue
        if not has_digits:
            problems.append(f"{name} for a message without any number")
        elif gives and detail not in gives:
            problems.append(f"{name}: the message gave {', '.join(gives)}, not a {detail}")
    return problems


def check_privacy(record: TurnRecord, ctx: Context) -> List[str]:
    """No full mobile number; nothing of a customer the conversation has not proven to be."""
    text, problems = record.plain, []
    if MOBILE.search(text):
        problems.append("shows a full mobile number")
    proven = ctx.proven
    for masked in MASKED_PHONE.findall(text):
        owners = {cid for cid, (m, _, _) in ctx.shop.customers.items() if m == masked}
        if owners - proven:
            problems.append(f"shows another customer's phone {masked}")
    for number in set(ORDER_NUMBER.findall(text)):
        owner = ctx.shop.order_owner(number)
        if owner is None or owner in proven:
            continue
        if number not in ctx.typed_orders:
            problems.append(f"names order {number}, which is not this customer's")
            continue
        order = ctx.shop.order_by_number(number)
        leaked = [p.tracking_number for p in order.parcels if p.tracking_number in text]
        leaked += [order.address_masked] if order.address_masked in text else []
        leaked += [i.product_name for i in order.items if i.product_name in text]
        if leaked:
            problems.append(f"gives details of order {number}, not this customer's: {leaked}")
    for tracking in set(TRACKING.findall(text)):
        owner = ctx.shop.parcel_owner(tracking)
        if owner is not None and owner not in proven and tracking not in ctx.typed_trackings:
            problems.append(f"names parcel {tracking}, which is not this customer's")
    for order in ctx.shop.orders:
        if order.customer_id not in proven and order.address_masked in text:
            problems.append(f"shows another customer's address {order.address_masked}")
            break
    return problems


def note_customer_words(said: str, ctx: Context, gives: Iterable[str], number: int) -> None:
    """Records the order numbers, parcels, proofs and details a customer message gives."""
    text = plain(said)
    ctx.typed.append(text)
    ctx.typed_orders |= set(ORDER_NUMBER.findall(text))
    ctx.typed_trackings |= set(TRACKING.findall(text.upper()))
    tails = set(re.findall(r"(?<!\d)\d{4}(?!\d)", " ".join(ctx.typed)))
    for order in ctx.shop.orders:
        named = order.number in ctx.typed_orders or any(
            p.tracking_number in ctx.typed_trackings for p in order.parcels
        )
        if named and order.phone_tail in tails:
            ctx.proven.add(order.customer_id)
    for detail in gives:
        ctx.given.setdefault(detail, number)


def check_asked_twice(record: TurnRecord, ctx: Context) -> List[str]:
    """The replies do not ask for a detail the customer already gave (unless it was wrong)."""
    for name in record.responses:
        said_wrong = RESETS.get(name, ())
        if name.startswith("utter_order_not_found"):  # also "not in your account"
            said_wrong = ("order_id", "phone_tail")
        for detail in said_wrong:
            ctx.given.pop(detail, None)
    problems = [
        f"asks for {detail} again (given in turn {ctx.given[detail]})"
        for detail in sorted(asked(record, ctx))
        if detail in ctx.given
    ]
    for detail in PER_MESSAGE:
        ctx.given.pop(detail, None)
    return problems
