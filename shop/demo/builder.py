"""Demo shop builder, part one: catalogue, prices, codes, customers, coupons and marketing."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy.orm import Session

from shop import settings
from shop.db.models import (
    PERSONALITY_TYPES,
    AntiCounterfeitCode,
    Coupon,
    Customer,
    Gift,
    InstallationProvider,
    Order,
    PriceHistory,
    Product,
    Promotion,
    Sku,
)
from shop.demo import data
from shop.policy.membership import MEMBER_LEVELS

N_CUSTOMERS = 120
H = timedelta(hours=1)
D = timedelta(days=1)


def _money(fen: float) -> int:
    """Round an amount in fen to whole yuan (prices end in 00 fen)."""
    return int(round(fen / 100.0)) * 100


class ShopBuilder:
    """Builds the demo shop's rows in a fixed order from one seeded random generator."""

    def __init__(self, session: Session, now: datetime, seed: int) -> None:
        self.s = session
        self.now = now.astimezone(timezone.utc)
        self.tz = settings.load().tz
        self.local_now = now.astimezone(self.tz)
        self.seed = seed
        self.rng = random.Random(seed)
        self.products: List[Product] = []
        self.skus: Dict[int, List[Sku]] = {}
        self.price_rows: Dict[int, List[Tuple[datetime, int]]] = {}
        self.customers: List[Customer] = []
        self.orders: List[Order] = []
        self.tracking: set = set()
        self.order_numbers: Dict[str, int] = {}
        self.departments: Dict[str, str] = {}  # order number -> department of its first item

    def ago(self, low: timedelta, high: timedelta) -> datetime:
        """Return a moment between `low` and `high` before now, to the second."""
        span = (high - low).total_seconds()
        moment = self.now - low - timedelta(seconds=self.rng.uniform(0, span))
        return moment.replace(microsecond=0)

    def price_at(self, product: Product, moment: datetime) -> int:
        """Return the product's seeded price at a moment."""
        price = self.price_rows[product.id][0][1]
        for since, value in self.price_rows[product.id]:
            if since <= moment:
                price = value
        return price

    def masked_address(self, city: str) -> Tuple[str, str]:
        """Return a masked address in a city, and its district."""
        province, districts, roads = data.CITIES[city]
        prefix = province if province.startswith(city) else f"{province}{city}市"
        district, road = self.rng.choice(districts), self.rng.choice(roads)
        return f"{prefix}{district}{road}**号****", district

    def catalogue(self) -> None:
        """Add the products, their SKUs, price histories and anti-counterfeit codes."""
        variants: Dict[str, List[Tuple[Any, Any]]] = {}
        for spec in data.products():
            colours, sizes = spec.pop("colours"), spec.pop("sizes")
            variants[spec["code"]] = [(colour, size) for colour in colours for size in sizes]
            product = Product(created_at=self.now - 200 * D, **spec)
            self.s.add(product)
            self.products.append(product)
        self.s.flush()
        for product in self.products:
            rows: List[Sku] = []
            for index, (colour, size) in enumerate(variants[product.code], start=1):
                sold_out = self.rng.random() < 0.12
                rows.append(
                    Sku(
                        product_id=product.id,
                        code=f"{product.code}-{index:02d}",
                        colour=colour,
                        size=size,
                        stock=0 if sold_out else self.rng.randint(3, 240),
                        restock_date=(self.local_now + self.rng.randint(3, 20) * D).date()
                        if sold_out
                        else None,
                    )
                )
            self.s.add_all(rows)
            self.skus[product.id] = rows
            self.prices(product)
        self.codes()

    def prices(self, product: Product) -> None:
        """Add a price history: launch price, everyday price, sometimes a recent drop."""
        base = product.price_fen
        history = [
            (self.now - 180 * D, _money(base * 1.1), "上市价"),
            (self.now - 90 * D, base, "日常价"),
        ]
        if self.rng.random() < 0.45:
            dropped = self.ago(1 * D, 12 * D)
            reason = self.rng.choice(("聚划算", "限时秒杀", "双11返场"))
            history.append((dropped, _money(base * self.rng.choice((0.8, 0.85, 0.9))), reason))
            if self.rng.random() < 0.3 and self.now - dropped > 2 * D:
                history.append((dropped + self.rng.randint(1, 2) * D, base, "活动结束"))
        self.price_rows[product.id] = [(since, price) for since, price, _ in history]
        product.price_fen = history[-1][1]
        self.s.add_all(
            PriceHistory(
                product_id=product.id, price_fen=price, effective_from=since, reason=reason
            )
            for since, price, reason in history
        )

    def codes(self) -> None:
        """Add anti-counterfeit codes for products that carry them, some already checked.

        Kitchen appliances carry a nameplate serial number instead (see `serials`).
        """
        seen: set = set()
        for product in self.products:
            if not product.anti_counterfeit_scheme or product.department == "kitchen":
                continue
            for _ in range(12):
                code = f"{self.rng.randrange(10**15, 10**16)}"
                if code in seen:
                    continue
                seen.add(code)
                used = self.rng.random() < 0.3
                used_at = self.ago(5 * D, 150 * D) if used else None
                # Checked codes were checked one to three times, two days apart (no extra draws).
                checks = 1 + len(seen) % 3 if used else 0
                self._add_code(product, code, used_at, checks)
        self.serials(seen)

    def _add_code(
        self, product: Product, code: str, used_at: Optional[datetime], checks: int
    ) -> None:
        """One code of a product; a checked one was last checked two days per check after."""
        self.s.add(
            AntiCounterfeitCode(
                code=code,
                product_id=product.id,
                used=used_at is not None,
                used_at=used_at,
                check_count=checks,
                last_checked_at=used_at + (checks - 1) * 2 * D if used_at else None,
            )
        )

    def serials(self, seen: set) -> None:
        """Add the kitchen appliances' nameplate serial numbers (16 digits), some already checked.

        They are drawn from a generator of their own, after every other code, so adding them left
        every other seeded row as it was.
        """
        rng = random.Random(f"{self.seed}-kitchen-serials")
        kitchen = [
            p for p in self.products if p.anti_counterfeit_scheme and p.department == "kitchen"
        ]
        for product in kitchen:
            added = 0
            while added < 12:
                code = f"{rng.randrange(10**15, 10**16)}"
                if code in seen:
                    continue
                seen.add(code)
                added += 1
                used = rng.random() < 0.3
                checks = rng.randint(1, 3) if used else 0
                used_at = None
                if used:
                    used_at = self.now - timedelta(seconds=rng.uniform(5, 150) * 86400)
                    used_at = used_at.replace(microsecond=0)
                self._add_code(product, code, used_at, checks)

    def people(self) -> None:
        """Add the customers with their emotional profiles."""
        cities = list(data.CITIES)
        referrals: List[Tuple[Customer, Customer]] = []
        for index in range(N_CUSTOMERS):
            rng = self.rng
            surname, given = rng.choice(data.SURNAMES), rng.choice(data.GIVEN)
            personality = (
                PERSONALITY_TYPES[index % 4] if index < 8 else rng.choice(PERSONALITY_TYPES)
            )
            level = rng.choices(MEMBER_LEVELS, weights=(35, 25, 20, 12, 8))[0]
            city = cities[index % len(cities)] if index < len(cities) else rng.choice(cities)
            address, _ = self.masked_address(city)
            tail = f"{rng.randrange(10000):04d}"
            formula = index % 5 == 2
            notes = [rng.choice(data.PERSONALITY_NOTES[personality])]
            notes += rng.sample(data.GENERAL_NOTES, rng.randint(0, 2))
            baby_birth, grams = None, None
            if formula:
                baby_birth = (self.local_now - rng.randint(20, 900) * D).date()
                months = (self.local_now.date() - baby_birth).days // 30
                grams = 130 if months < 6 else 110 if months < 12 else 90
                notes.append("给孩子买奶粉, 关心生产日期")
            card = None
            if rng.random() < 0.3:
                card = (self.now + rng.randint(-20, 300) * D).replace(microsecond=0)
            prefs = {
                "contact_time": rng.choice(data.PREFERENCE_CHOICES["contact_time"]),
                "likes": rng.sample(data.PREFERENCE_CHOICES["likes"], rng.randint(1, 2)),
                "avoid": rng.sample(data.PREFERENCE_CHOICES["avoid"], rng.randint(0, 1)),
                "gift_ok": rng.random() < 0.8,
            }
            customer = Customer(
                name=surname + given,
                nickname=rng.choice(data.NICK_PARTS) + rng.choice(data.GIVEN),
                phone_masked=f"{rng.choice(data.PHONE_PREFIXES)}****{tail}",
                phone_tail=tail,
                province=data.CITIES[city][0],
                city=city,
                address_masked=address,
                member_level=level,
                points=rng.randint(0, 200) * (MEMBER_LEVELS.index(level) + 1) * 10,
                free_shipping_card_until=card,
                birthday=date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.85
                else None,
                personality_type=personality,
                preferences=prefs,
                notes=notes,
                baby_birth_date=baby_birth,
                formula_daily_grams=grams,
                created_at=self.ago(130 * D, 700 * D),
            )
            if self.customers and rng.random() < 0.12:
                referrals.append((customer, rng.choice(self.customers)))
            self.customers.append(customer)
        self.s.add_all(self.customers)
        self.s.flush()
        for customer, referrer in referrals:
            customer.referred_by_id = referrer.id

    def coupons(self) -> None:
        """Give customers coupons: valid, used and expired ones."""
        templates = (
            ("新人无门槛券", 500, 0, None),
            ("店铺满199减20", 2000, 19900, None),
            ("店铺满500减50", 5000, 50000, None),
            ("厨电满3000减200", 20000, 300000, "油烟机"),
            ("坚果满99减10", 1000, 9900, "坚果"),
            ("奶粉满400减30", 3000, 40000, "奶粉"),
        )
        for customer in self.customers:
            for name, amount, threshold, category in self.rng.sample(
                templates, self.rng.randint(0, 3)
            ):
                start = self.ago(0 * D, 40 * D)
                used = self.rng.random() < 0.2
                self.s.add(
                    Coupon(
                        customer_id=customer.id,
                        name=name,
                        amount_fen=amount,
                        threshold_fen=threshold,
                        category=category,
                        valid_from=start,
                        valid_until=start + self.rng.randint(7, 60) * D,
                        used=used,
                        used_at=min(start + 2 * D, self.now) if used else None,
                    )
                )

    def providers(self) -> Dict[str, List[InstallationProvider]]:
        """Add one or two installation providers in every city."""
        rng = self.rng
        providers: Dict[str, List[InstallationProvider]] = {}
        for city, (province, districts, roads) in data.CITIES.items():
            prefix = province if province.startswith(city) else f"{province}{city}市"
            for name in rng.sample(data.PROVIDER_NAMES, rng.randint(1, 2)):
                provider = InstallationProvider(
                    name=f"{name}({city})",
                    city=city,
                    service_point=f"{prefix}{rng.choice(districts)}{rng.choice(roads)}"
                    f"{rng.randint(1, 300)}号",
                    categories=["油烟机", "燃气灶", "热水器"],
                    contact_within_hours=rng.choice((12, 24)),
                    rating=rng.randint(4, 5),
                )
                providers.setdefault(city, []).append(provider)
                self.s.add(provider)
        self.s.flush()
        return providers

    def marketing(self) -> None:
        """Add promotions (running, past, future) and the gift catalogue."""
        code = {p.code: p for p in self.products}
        now = self.now.replace(microsecond=0)
        promotions = [
            ("双11返场 油烟机9折", None, "油烟机", None, 10, 0, -3, 4),
            ("坚果满199减30", None, "坚果", 3000, None, 19900, -5, 10),
            ("奶粉会员日 95折", None, "奶粉", None, 5, 0, -1, 1),
            ("玫瑰精油限时直降30元", "O-ROS", None, 3000, None, 0, -2, 5),
            ("卫衣上新立减20元", "C-HOD", None, 2000, None, 0, -4, 6),
            ("运动鞋满300减40", None, "鞋", 4000, None, 30000, -2, 8),
            ("护肤满299减30", None, "护肤", 3000, None, 29900, -6, 3),
            ("国庆大促 热水器满3000减300", None, "热水器", 30000, None, 300000, -55, -48),
            ("年货节 零食大礼包8折", "F-BOX", None, None, 20, 0, 10, 25),
        ]
        for name, product_code, category, amount, percent, threshold, start, end in promotions:
            self.s.add(
                Promotion(
                    name=name,
                    product_id=code[product_code].id if product_code else None,
                    category=category,
                    discount_fen=amount,
                    percent_off=percent,
                    threshold_fen=threshold,
                    starts_at=now + start * D,
                    ends_at=now + end * D,
                )
            )
        for category, gifts in data.GIFTS.items():
            for name, min_yuan, notes in gifts:
                self.s.add(
                    Gift(
                        name=name,
                        category=category,
                        min_order_fen=min_yuan * 100,
                        stock=self.rng.randint(0, 1) * 200 + 20,
                        notes=notes,
                    )
                )
