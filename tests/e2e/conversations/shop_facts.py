"""The seeded demo shop as the conversations need it: orders by kind, products, placeholders.

The demo shop is built around the moment it is seeded, so which order is stalled, which was
delivered yesterday or which refund is overdue is read from the database, never written into
the conversation files. Every conversation gets orders of its own (and, where it can, a customer
of its own), allocated once before any conversation runs, so what one conversation writes (a
return, a ticket, a wrong phone tail) cannot change another's answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from shop.db.models import (
    ComplaintTicket,
    Customer,
    InstallationAppointment,
    InvoiceRequest,
    Order,
    OrderItem,
    Product,
    ReturnRequest,
    Shipment,
    Sku,
)
from shop.money import yuan
from shop.policy.aftersale import refund_expected_by
from shop.policy.delivery import STALL_HOURS, dispatch_window
from shop.policy.refunds import AUTO_REFUND_LIMIT_FEN
from shop.repository.price_protection import frontline_limit_fen, lowest_price_between
from shop.settings import load as load_settings

PLACEHOLDER = re.compile(r"\{(\w+)(?::([^{}]+))?\}")
RECENT_DELIVERY = timedelta(days=5)  # well inside the 7-day no-reason window
MOVING = timedelta(hours=36)  # a parcel updated this recently is on its way, not stalled
SELF = "本人"


class AllocationError(LookupError):
    """The seeded shop has no order of a kind a conversation needs."""


@dataclass(frozen=True)
class ParcelFacts:
    """An order's parcel as the conversations check it."""

    id: int
    carrier: str
    tracking_number: str
    status: str
    signed_by: Optional[str]
    delivered_at: Optional[datetime]
    last_event_at: Optional[datetime]


@dataclass(frozen=True)
class ItemFacts:
    """One line of an order."""

    product_code: str
    product_name: str
    department: str
    category: str
    needs_installation: bool
    colour: Optional[str]
    size: Optional[str]
    quantity: int
    unit_price_fen: int


@dataclass(frozen=True)
class ReturnFacts:
    """A seeded return or exchange of an order."""

    kind: str
    status: str
    refund_fen: int
    refunded_at: Optional[datetime]
    return_tracking_number: Optional[str]


@dataclass(frozen=True)
class OrderFacts:
    """A seeded order with what the checks compare replies against."""

    id: int
    number: str
    customer_id: int
    phone_tail: str
    phone_masked: str
    state: str
    created_at: datetime
    paid_at: Optional[datetime]
    delivered_at: Optional[datetime]
    payable_fen: int
    shipping_city: str
    address_masked: str
    items: Tuple[ItemFacts, ...]
    parcels: Tuple[ParcelFacts, ...]
    returns: Tuple[ReturnFacts, ...]
    ticket_kinds: Tuple[str, ...]
    has_appointment: bool
    has_invoice: bool
    price_drop_fen: int = 0
    size_up: Optional[str] = None  # the next size of the first item, when it is in stock
    customer_unpaid: int = 0  # how many unpaid orders its customer has

    @property
    def untouched(self) -> bool:
        """No after-sale, ticket, appointment or invoice recorded yet."""
        return not (self.returns or self.ticket_kinds or self.has_appointment or self.has_invoice)

    @property
    def parcel(self) -> Optional[ParcelFacts]:
        """The newest parcel, if the order was shipped."""
        return self.parcels[-1] if self.parcels else None

    def dispatch_day(self) -> Optional[date]:
        """The last day a paid order leaves the warehouse by the delivery policy."""
        return dispatch_window(self.paid_at).latest if self.paid_at else None


def _since(moment: Optional[datetime], now: datetime) -> timedelta:
    return now - moment if moment is not None else timedelta.max


def _single(order: OrderFacts) -> bool:
    return len(order.items) == 1


def _received_recently(order: OrderFacts, now: datetime) -> bool:
    parcel = order.parcel
    return (
        order.state == "delivered"
        and _since(order.delivered_at, now) < RECENT_DELIVERY
        and parcel is not None
        and parcel.signed_by == SELF
        and order.untouched
    )


def _moving(order: OrderFacts, now: datetime, status: str) -> bool:
    parcel = order.parcel
    return (
        order.state == "shipped"
        and parcel is not None
        and parcel.status == status
        and _since(parcel.last_event_at, now) < MOVING
        and order.untouched
    )


def _refund(order: OrderFacts, now: datetime, overdue: bool) -> bool:
    refunds = [r for r in order.returns if r.kind == "return" and r.status == "refunded"]
    if len(order.returns) != 1 or not refunds or refunds[0].refunded_at is None:
        return False
    if order.ticket_kinds:
        return False
    passed = refund_expected_by(refunds[0].refunded_at) < now - timedelta(hours=2)
    fresh = refund_expected_by(refunds[0].refunded_at) > now + timedelta(hours=2)
    return passed if overdue else fresh


def _awaiting_return(order: OrderFacts, now: datetime) -> bool:
    """A return approved within the window, whose parcel comes after the window closed."""
    return (
        _since(order.delivered_at, now) > timedelta(days=8)
        and len(order.returns) == 1
        and order.returns[0].kind == "return"
        and order.returns[0].status == "approved"
        and not order.returns[0].return_tracking_number
        and order.returns[0].refund_fen <= AUTO_REFUND_LIMIT_FEN
        and not order.ticket_kinds
    )


def _installable(order: OrderFacts) -> bool:
    return any(item.needs_installation for item in order.items) and not order.has_appointment


KindTest = Callable[[OrderFacts, datetime], bool]
# Placed within the days the order resolver looks back first (`which_order.LATELY`, 30), with a
# day to spare: a signed-in customer's choice among recent orders then holds at any hour.
PLACED_LATELY = timedelta(days=29)
# The kinds of order a conversation can ask for (see README.md for what each one is).
ORDER_KINDS: Dict[str, KindTest] = {
    "unpaid": lambda o, now: o.state == "unpaid" and o.untouched,
    "sole_unpaid": lambda o, now: (o.state == "unpaid" and o.untouched and o.customer_unpaid == 1),
    "paid": lambda o, now: (
        o.state == "paid" and o.untouched and o.dispatch_day() >= _local_day(now)
    ),
    "cancelled": lambda o, now: o.state == "cancelled" and o.untouched,
    "shipped": lambda o, now: _moving(o, now, "in_transit"),
    "out_for_delivery": lambda o, now: _moving(o, now, "out_for_delivery"),
    "stalled": lambda o, now: (
        o.state == "shipped"
        and o.parcel is not None
        and _since(o.parcel.last_event_at, now) > timedelta(hours=STALL_HOURS + 3)
        and o.untouched
    ),
    "delivered": lambda o, now: (
        _received_recently(o, now)
        and _single(o)
        and o.items[0].department != "kitchen"
        and o.payable_fen <= AUTO_REFUND_LIMIT_FEN
    ),
    "delivered_multi": lambda o, now: (
        _received_recently(o, now)
        and len({i.product_code for i in o.items}) >= 2
        and all(i.unit_price_fen * i.quantity <= AUTO_REFUND_LIMIT_FEN for i in o.items)
    ),
    "delivered_apparel": lambda o, now: (
        _received_recently(o, now)
        and _single(o)
        and o.items[0].department == "apparel"
        and o.size_up is not None
    ),
    "delivered_proxy": lambda o, now: (
        o.state == "delivered"
        and o.parcel is not None
        and o.parcel.signed_by not in (None, SELF)
        and o.untouched
    ),
    "completed": lambda o, now: o.state == "completed" and o.untouched,
    "completed_lately": lambda o, now: (
        o.state == "completed" and o.untouched and _since(o.created_at, now) < PLACED_LATELY
    ),
    "window_passed": lambda o, now: (
        o.state == "completed"
        and _single(o)
        and _since(o.delivered_at, now) > timedelta(days=17)
        and all(i.department != "kitchen" for i in o.items)
        and o.untouched
    ),
    "appliance_delivered": lambda o, now: (
        o.state in ("delivered", "completed")
        and _installable(o)
        and _since(o.delivered_at, now) < timedelta(days=30)
        and _since(o.created_at, now) < PLACED_LATELY
        and not o.returns
        and not o.ticket_kinds
    ),
    "appliance_paid": lambda o, now: (
        o.state in ("paid", "shipped") and _installable(o) and o.untouched
    ),
    "awaiting_return": _awaiting_return,
    "refund_overdue": lambda o, now: _refund(o, now, overdue=True),
    "refund_recent": lambda o, now: _refund(o, now, overdue=False),
    "price_drop": lambda o, now: o.price_drop_fen > 0 and o.untouched,
    "any": lambda o, now: o.state not in ("unpaid", "cancelled") and o.untouched,
}


def _local_day(moment: datetime) -> date:
    return moment.astimezone(load_settings().tz).date()


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest(), 16)


@dataclass
class Binding:
    """What one conversation was given: its orders, its customer, its invented numbers."""

    conversation_id: str
    orders: Dict[str, OrderFacts] = field(default_factory=dict)
    customer_id: Optional[int] = None  # the signed-in customer, if any
    wrong_order: str = ""
    return_tracking: str = ""
    phone: str = ""


class ShopFacts:
    """Read access to the seeded shop the stack under test uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.now = datetime.now(timezone.utc)
        self.orders: List[OrderFacts] = []
        self.products: Dict[str, Product] = {}
        self.customers: Dict[int, Tuple[str, str, int]] = {}  # id -> (phone masked, tail, points)
        self.used_orders: set = set()
        self.used_customers: set = set()
        self._load()

    @classmethod
    def for_var_dir(cls, var_dir: Path) -> "ShopFacts":
        """The shop of a stack started by `bot.processes.seeded_stack` with this var dir."""
        url = os.environ.get("SHOP_DATABASE_URL") or f"sqlite:///{Path(var_dir) / 'shop.db'}"
        return cls(create_engine(url, future=True))

    def session(self) -> Session:
        """A new session on the shop database (the caller closes it)."""
        return Session(self.engine)

    # ---- loading

    def _load(self) -> None:
        with self.session() as session:
            self.products = {
                p.code: p
                for p in session.execute(
                    select(Product).options(selectinload(Product.skus))
                ).scalars()
            }
            session.expunge_all()
            self.customers = {
                c.id: (c.phone_masked, c.phone_tail, c.points)
                for c in session.execute(select(Customer)).scalars()
            }
            limit = frontline_limit_fen(session)
            returns: Dict[int, List[ReturnFacts]] = {}
            for r in session.execute(select(ReturnRequest)).scalars():
                returns.setdefault(r.order_id, []).append(
                    ReturnFacts(
                        r.kind, r.status, r.refund_fen, r.refunded_at, r.return_tracking_number
                    )
                )
            tickets: Dict[int, List[str]] = {}
            for order_id, kind in session.execute(
                select(ComplaintTicket.order_id, ComplaintTicket.kind)
            ):
                tickets.setdefault(order_id, []).append(kind)
            booked = set(session.execute(select(InstallationAppointment.order_id)).scalars())
            invoiced = set(session.execute(select(InvoiceRequest.order_id)).scalars())
            query = (
                select(Order)
                .options(
                    selectinload(Order.items).selectinload(OrderItem.sku).selectinload(Sku.product),
                    selectinload(Order.shipments).selectinload(Shipment.events),
                    selectinload(Order.customer),
                )
                .order_by(Order.order_number)
            )
            for order in session.execute(query).scalars():
                self.orders.append(
                    self._facts(session, order, returns, tickets, booked, invoiced, limit)
                )
        unpaid = Counter(o.customer_id for o in self.orders if o.state == "unpaid")
        self.orders = [
            dataclasses.replace(o, customer_unpaid=unpaid[o.customer_id]) for o in self.orders
        ]

    def _facts(self, session, order, returns, tickets, booked, invoiced, limit) -> OrderFacts:
        items = tuple(
            ItemFacts(
                item.sku.product.code,
                item.sku.product.name,
                item.sku.product.department,
                item.sku.product.category,
                bool(item.sku.product.needs_installation),
                item.sku.colour,
                item.sku.size,
                item.quantity,
                item.unit_price_fen,
            )
            for item in order.items
        )
        parcels = tuple(
            ParcelFacts(
                p.id,
                p.carrier,
                p.tracking_number,
                p.status,
                p.signed_by,
                p.delivered_at,
                max((e.occurred_at for e in p.events), default=None),
            )
            for p in order.shipments
        )
        drop = 0
        recent_payment = order.paid_at is not None and self.now - order.paid_at < timedelta(days=13)
        if recent_payment and order.state != "cancelled":
            for item in order.items:
                lowest = lowest_price_between(session, item.sku.product_id, order.paid_at, self.now)
                if lowest is not None:
                    drop += max(0, item.unit_price_fen - lowest.price_fen) * item.quantity
            drop = drop if drop <= limit else 0
        first = order.items[0].sku
        sizes = [s.size for s in first.product.skus if s.colour == first.colour]
        up = sizes[sizes.index(first.size) + 1] if first.size in sizes[:-1] else None
        up_in_stock = any(
            s.size == up and s.colour == first.colour and s.stock > 0 for s in first.product.skus
        )
        return OrderFacts(
            id=order.id,
            number=order.order_number,
            customer_id=order.customer_id,
            phone_tail=order.customer.phone_tail,
            phone_masked=order.customer.phone_masked,
            state=order.state,
            created_at=order.created_at,
            paid_at=order.paid_at,
            delivered_at=order.delivered_at,
            payable_fen=order.payable_fen,
            shipping_city=order.shipping_city,
            address_masked=order.address_masked,
            items=items,
            parcels=parcels,
            returns=tuple(returns.get(order.id, ())),
            ticket_kinds=tuple(tickets.get(order.id, ())),
            has_appointment=order.id in booked,
            has_invoice=order.id in invoiced,
            price_drop_fen=drop,
            size_up=up if up_in_stock and first.product.department == "apparel" else None,
        )

    # ---- allocation

    def candidates(self, kind: str) -> List[OrderFacts]:
        """The unused orders of a kind, newest first; customers already given out last."""
        test = ORDER_KINDS[kind]
        found = [o for o in self.orders if o.id not in self.used_orders and test(o, self.now)]
        found.sort(key=lambda o: o.number, reverse=True)
        return sorted(found, key=lambda o: o.customer_id in self.used_customers)

    def bind(self, conversation_id: str, wants: Mapping, signed_in: bool) -> Binding:
        """Gives a conversation its orders (and signed-in customer) for good.

        Orders with an `owner` belong to that order's customer; the others each belong to a
        different customer.

        Raises:
            AllocationError: when the seeded shop has no fitting orders left.
        """
        names = list(wants)
        chosen = self._search(names, wants, {})
        if chosen is None:
            kinds = ", ".join(f"{n}={w.kind}" for n, w in wants.items())
            raise AllocationError(f"{conversation_id}: no unused orders for {kinds}")
        binding = Binding(conversation_id, chosen)
        for order in chosen.values():
            self.used_orders.add(order.id)
            self.used_customers.add(order.customer_id)
        if signed_in:
            binding.customer_id = chosen[names[0]].customer_id if names else self._spare_customer()
            self.used_customers.add(binding.customer_id)
        self._invent_numbers(binding)
        return binding

    def _search(
        self, names: List[str], wants: Mapping, chosen: Dict[str, OrderFacts]
    ) -> Optional[Dict[str, OrderFacts]]:
        if not names:
            return dict(chosen)
        name, rest = names[0], names[1:]
        want = wants[name]
        taken = {o.id for o in chosen.values()}
        others = {o.customer_id for o in chosen.values()}
        for order in self.candidates(want.kind):
            if order.id in taken:
                continue
            if want.owner is not None and order.customer_id != chosen[want.owner].customer_id:
                continue
            if want.owner is None and order.customer_id in others:
                continue
            found = self._search(rest, wants, {**chosen, name: order})
            if found is not None:
                return found
        return None

    def _spare_customer(self) -> int:
        spare = [
            cid
            for cid, (_, _, points) in sorted(self.customers.items())
            if cid not in self.used_customers and points > 0
        ]
        if not spare:
            raise AllocationError("no customer left for a signed-in conversation")
        return spare[0]

    def _invent_numbers(self, binding: Binding) -> None:
        """A wrong order number, a return parcel's number and a mobile number of its own."""
        numbers = {o.number for o in self.orders}
        trackings = {p.tracking_number for o in self.orders for p in o.parcels}
        trackings |= {r.return_tracking_number for o in self.orders for r in o.returns}
        seed = _digest(binding.conversation_id)
        day = _local_day(self.now).strftime("%Y%m%d")
        for step in range(1000):
            wrong = f"{day}9{(seed + step) % 10000:04d}"
            if wrong not in numbers:
                binding.wrong_order = wrong
                break
        for step in range(1000):
            tracking = f"SF{(seed // 7 + step) % 10**13:013d}"
            if tracking not in trackings:
                binding.return_tracking = tracking
                break
        binding.phone = f"1{'3578'[seed % 4]}{seed % 10**9:09d}"

    # ---- lookups

    def product(self, code: str) -> Product:
        """The product with this code (its SKUs loaded)."""
        try:
            return self.products[code]
        except KeyError:
            raise KeyError(f"no product with code {code!r} in the demo shop") from None

    def product_names(self) -> List[Tuple[str, str]]:
        """(name, code) of every product, longest name first (for finding names in text)."""
        return sorted(((p.name, c) for c, p in self.products.items()), key=lambda x: -len(x[0]))

    def order_owner(self, number: str) -> Optional[int]:
        """The customer whose order this number is, or None when no order has it."""
        return next((o.customer_id for o in self.orders if o.number == number), None)

    def order_by_number(self, number: str) -> Optional[OrderFacts]:
        """The seeded order with this number, if any."""
        return next((o for o in self.orders if o.number == number), None)

    def parcel_owner(self, tracking: str) -> Optional[int]:
        """The customer a shop parcel's tracking number belongs to, or None."""
        for order in self.orders:
            if any(p.tracking_number == tracking for p in order.parcels):
                return order.customer_id
        return None

    # ---- placeholders

    def fill(self, text: str, binding: Binding) -> str:
        """Text with every placeholder replaced by the fact it names (see README.md)."""
        return PLACEHOLDER.sub(lambda m: self.value(m.group(1), m.group(2), binding), text)

    def value(self, name: str, argument: Optional[str], binding: Binding) -> str:
        """The fact one placeholder names.

        Raises:
            KeyError: for an unknown placeholder, order name or product code.
        """
        fixed = {
            "wrong_order": binding.wrong_order,
            "return_tracking": binding.return_tracking,
            "phone": binding.phone,
        }
        if name in fixed and argument is None:
            return fixed[name]
        if name in ("name", "price", "cutout"):
            product = self.product(str(argument))
            if name == "cutout":
                return f"{product.ceiling_cutout_width_mm}×{product.ceiling_cutout_depth_mm}"
            return product.name if name == "name" else yuan(product.price_fen)
        if name == "field":
            code, column = str(argument).split("/", 1)
            return str(getattr(self.product(code), column))
        if name == "spec":
            code, key = str(argument).split("/", 1)
            return str(self.product(code).specs[key])
        if argument not in binding.orders:
            raise KeyError(f"placeholder {{{name}:{argument}}}: no such order in the conversation")
        order = binding.orders[argument]
        if name == "order":
            return order.number
        if name == "tail":
            return order.phone_tail
        if name == "wrong_tail":
            return f"{(int(order.phone_tail) + 5273) % 10000:04d}"
        if name == "tracking":
            if order.parcel is None:
                raise KeyError(f"order {argument!r} has no parcel")
            return order.parcel.tracking_number
        if name == "amount":
            return yuan(order.payable_fen)
        if name == "item":
            return order.items[0].product_name
        if name == "city":
            return order.shipping_city
        if name == "refund":
            return yuan(order.returns[0].refund_fen)
        if name == "drop":
            return yuan(order.price_drop_fen)
        if name == "size_up" and order.size_up:
            return order.size_up
        raise KeyError(f"unknown placeholder {name!r}")

    def placeholder_orders(self, text: str, binding: Binding) -> Iterable[Tuple[str, str]]:
        """(placeholder name, order name) of the order placeholders in a text."""
        for match in PLACEHOLDER.finditer(text):
            if match.group(2) in binding.orders:
                yield match.group(1), match.group(2)


def day_forms(day: date, today: date) -> Sequence[str]:
    """The ways a reply may write a day: ISO, 12月8日, 12月8号, 12-08, and 今天/明天/后天."""
    forms = [day.isoformat(), f"{day.month}月{day.day}日", f"{day.month}月{day.day}号"]
    forms += [f"{day.month:02d}-{day.day:02d}", f"{day.month}/{day.day}"]
    relative = {0: ("今天", "今日"), 1: ("明天", "明日"), 2: ("后天",)}
    forms += relative.get((day - today).days, ())
    if 0 <= (day - today).days < 7:
        weekday = "一二三四五六日"[day.weekday()]
        forms += [f"周{weekday}", f"星期{weekday}"]
    return forms


def local_today() -> date:
    """Today in the shop's time zone."""
    return _local_day(datetime.now(timezone.utc))
