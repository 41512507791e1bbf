"""Demo shop builder, part two: orders, parcels and their timelines, after-sale and service."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Tuple

from shop.db.models import (
    ComplaintTicket,
    Customer,
    InstallationAppointment,
    InstallationProvider,
    Order,
    OrderItem,
    Product,
    ReturnRequest,
    Shipment,
    ShipmentEvent,
    Sku,
)
from shop.demo import data
from shop.demo.builder import N_CUSTOMERS, D, H, ShopBuilder

N_ORDERS = 640


class DemoShopBuilder(ShopBuilder):
    """The whole demo shop: the catalogue and customers, then orders and what followed them."""

    def order_number(self, created: datetime) -> str:
        """Return a new order number: the local date and a rising five-digit counter."""
        day = created.astimezone(self.tz).strftime("%Y%m%d")
        last = self.order_numbers.get(day, self.rng.randint(10000, 30000))
        self.order_numbers[day] = last + self.rng.randint(1, 97)
        return f"{day}{self.order_numbers[day]:05d}"

    def tracking_number(self, carrier: str) -> str:
        """Return a new, unique tracking number in the carrier's format."""
        while True:
            number = f"{data.CARRIERS[carrier]}{self.rng.randrange(10**12, 10**13)}"
            if number not in self.tracking:
                self.tracking.add(number)
                return number

    def pick_items(self, customer: Customer) -> List[Tuple[Product, Sku, int]]:
        """Choose an order's lines to fit the customer (formula by the baby's age)."""
        rng = self.rng
        by_department: Dict[str, List[Product]] = {}
        for product in self.products:
            by_department.setdefault(product.department, []).append(product)
        if customer.baby_birth_date is not None and rng.random() < 0.7:
            months = (self.local_now.date() - customer.baby_birth_date).days // 30
            stage = 1 if months < 6 else 2 if months < 12 else 3
            choices = [p for p in by_department["infant"] if p.name.endswith(f"{stage}段")]
            product = rng.choice(choices)
            return [(product, self.skus[product.id][0], rng.randint(1, 4))]
        department = rng.choices(
            ("kitchen", "beauty", "snacks", "apparel", "footwear"), weights=(18, 20, 24, 26, 12)
        )[0]
        if department == "kitchen":
            product = rng.choice(by_department["kitchen"])
            return [(product, rng.choice(self.skus[product.id]), 1)]
        lines = []
        for product in rng.sample(by_department[department], rng.randint(1, 2)):
            quantity = rng.randint(1, 3) if department in ("snacks", "beauty") else 1
            lines.append((product, rng.choice(self.skus[product.id]), quantity))
        return lines

    def dispatch_time(self, paid: datetime) -> datetime:
        """When a paid order leaves: paid before 15:00 the same day, else the next day."""
        local = paid.astimezone(self.tz)
        day = local.date() if local.hour < 15 else local.date() + D
        hour = self.rng.randint(16, 19) if local.hour < 15 else self.rng.randint(9, 17)
        moment = datetime(
            day.year, day.month, day.day, hour, self.rng.randint(0, 59), tzinfo=self.tz
        )
        return moment.astimezone(timezone.utc)

    def order(self, customer: Customer) -> None:
        """Add one order and play its life up to now."""
        rng = self.rng
        band = rng.random()
        age = (
            rng.uniform(0.05, 2)
            if band < 0.16
            else rng.uniform(2, 7)
            if band < 0.38
            else rng.uniform(7, 16)
            if band < 0.52
            else rng.uniform(16, 120)
        )
        created = (self.now - age * D).replace(microsecond=0)
        lines = self.pick_items(customer)
        city = customer.city if rng.random() < 0.9 else rng.choice(list(data.CITIES))
        address = customer.address_masked if city == customer.city else self.masked_address(city)[0]
        items_total = sum(self.price_at(p, created) * q for p, _, q in lines)
        card = customer.free_shipping_card_until
        free = items_total >= 9900 or (card is not None and card > created)
        order = Order(
            order_number=self.order_number(created),
            customer_id=customer.id,
            state="unpaid",
            created_at=created,
            items_total_fen=items_total,
            discount_fen=0,
            shipping_fee_fen=0 if free else rng.choice((600, 800, 1000)),
            payable_fen=0,
            shipping_city=city,
            address_masked=address,
            invoice_title="个人" if rng.random() < 0.2 else None,
        )
        order.payable_fen = order.items_total_fen + order.shipping_fee_fen
        order.items = [
            OrderItem(sku_id=sku.id, quantity=q, unit_price_fen=self.price_at(p, created))
            for p, sku, q in lines
        ]
        self.departments[order.order_number] = lines[0][0].department
        self.lifecycle(order, rng.random())
        self.s.add(order)
        self.orders.append(order)

    def lifecycle(self, order: Order, roll: float) -> None:
        """Set an order's state and times: cancelled, unpaid, paid, or shipped onwards."""
        rng, created = self.rng, order.created_at
        if roll < 0.08:
            order.state = "cancelled"
            if rng.random() < 0.5:
                order.paid_at = created + rng.randint(1, 20) * timedelta(minutes=1)
                order.cancelled_at = min(order.paid_at + rng.randint(1, 6) * H, self.now)
            else:
                order.cancelled_at = min(created + 24 * H, self.now)
            return
        if self.now - created < 24 * H and roll < 0.45:
            return  # still unpaid
        order.paid_at = created + rng.randint(1, 20) * timedelta(minutes=1)
        order.state = "paid"
        shipped = self.dispatch_time(order.paid_at)
        if shipped > self.now:
            return
        order.state, order.shipped_at = "shipped", shipped
        order.shipments = [self.shipment(order, shipped)]

    def shipment(self, order: Order, shipped: datetime) -> Shipment:
        """Add a parcel whose timeline runs up to now: normal, stalled or delivered."""
        rng = self.rng
        carrier = rng.choice(list(data.CARRIERS))
        transit = timedelta(hours=rng.uniform(28, 80))
        delivered = shipped + transit
        stalled = rng.random() < 0.22 and shipped < self.now - 54 * H and self.now - shipped < 9 * D
        parcel = Shipment(
            carrier=carrier,
            tracking_number=self.tracking_number(carrier),
            status="in_transit",
            shipped_at=shipped,
        )
        origin = data.WAREHOUSES[self.departments[order.order_number]]
        dest = order.shipping_city
        steps = [
            (0.0, origin, f"【{origin}】商家已发货, {carrier}快递员已揽收"),
            (0.08, origin, f"【{origin}】快件已到达{origin}转运中心"),
            (0.15, origin, f"【{origin}】快件已从{origin}转运中心发出, 下一站{dest}转运中心"),
            (0.72, dest, f"【{dest}】快件已到达{dest}转运中心"),
            (0.86, dest, f"【{dest}】快件已到达{dest}营业点"),
            (
                0.93,
                dest,
                f"【{dest}】快递员{rng.choice(data.SURNAMES)}师傅正在派送中, 请保持电话畅通",
            ),
        ]
        cutoff = self.now
        if stalled:
            cutoff = self.now - timedelta(
                hours=rng.uniform(49, min(110, (self.now - shipped) / H - 1))
            )
            delivered = self.now + 2 * D
        events = [
            ShipmentEvent(
                occurred_at=(shipped + transit * f).replace(microsecond=0),
                location=loc,
                description=text,
            )
            for f, loc, text in steps
            if shipped + transit * f <= cutoff
        ]
        if delivered <= self.now:
            receiver = (
                "本人"
                if rng.random() < 0.75
                else rng.choice(("快递柜", "门卫代收", "驿站代收", "家人代收"))
            )
            events.append(
                ShipmentEvent(
                    occurred_at=delivered.replace(microsecond=0),
                    location=dest,
                    description=f"【{dest}】已签收, 签收人: {receiver}。感谢使用{carrier}",
                )
            )
            parcel.status, parcel.delivered_at, parcel.signed_by = "delivered", delivered, receiver
            order.state, order.delivered_at = "delivered", delivered.replace(microsecond=0)
            confirm = delivered + timedelta(days=rng.uniform(1, 10))
            if confirm <= self.now and not (receiver != "本人" and self.now - delivered < 10 * D):
                order.state, order.completed_at = "completed", confirm.replace(microsecond=0)
        elif events and events[-1].description.endswith("请保持电话畅通"):
            parcel.status = "out_for_delivery"
        parcel.events = events
        return parcel

    def all_orders(self) -> None:
        """Add all orders, every customer at least once."""
        for index in range(N_ORDERS):
            customer = (
                self.customers[index % N_CUSTOMERS]
                if index < N_CUSTOMERS
                else self.rng.choice(self.customers)
            )
            self.order(customer)
        self.s.flush()

    def after_sale(self) -> None:
        """Add returns and exchanges at every stage, then tickets."""
        rng = self.rng
        received = [o for o in self.orders if o.state in ("delivered", "completed")]
        reasons = (
            "尺码偏小",
            "裤腿一长一短",
            "颜色与图片有色差",
            "收到外箱破损, 商品有划痕",
            "七天无理由退货",
            "买多了",
            "味道不喜欢",
        )
        for order in rng.sample(received, 45):
            item = order.items[0]
            kind = "exchange" if rng.random() < 0.3 else "return"
            created = order.delivered_at + timedelta(hours=rng.uniform(2, 120))
            if created > self.now:
                created = self.now - H
            request = ReturnRequest(
                order_id=order.id,
                order_item_id=item.id,
                kind=kind,
                reason=rng.choice(reasons),
                refund_fen=0 if kind == "exchange" else item.quantity * item.unit_price_fen,
                photo_requested=rng.random() < 0.4,
                created_at=created.replace(microsecond=0),
            )
            stage = rng.random()  # < 0.3 waits for the parcel, < 0.9 is settled, else rejected
            if stage < 0.9:
                request.status, request.approved_at = "approved", request.created_at
            if 0.3 <= stage < 0.9:
                shipped = min(created + timedelta(hours=rng.uniform(1, 30)), self.now)
                request.return_tracking_number = self.tracking_number(
                    rng.choice(list(data.CARRIERS))
                )
                request.return_shipped_at = shipped.replace(microsecond=0)
                if kind == "return":
                    request.status, request.refunded_at = "refunded", request.return_shipped_at
                    request.refund_state, request.refund_state_by = "issued", "bot"
                    request.refund_state_at = request.refunded_at
                else:
                    request.status = "exchange_shipped"
                    request.exchange_sku_id = item.sku_id
            if stage >= 0.9:
                request.status = "rejected"
            self.s.add(request)
        self.tickets(received)

    def tickets(self, received: List[Order]) -> None:
        """Add complaints, logistics chases for stalled parcels and delivery investigations."""
        rng = self.rng
        options = {
            "quality": ["补发新品", "退货退款", "保留商品并补偿20元"],
            "logistics": ["催促快递并每天同步进度", "重新补发", "补偿10元无门槛券"],
            "attitude": ["主管致电道歉", "赠送20元店铺券"],
        }
        descriptions = {
            "quality": ("收到的商品有破损", "面霜有异味", "裤子开线", "燃气灶点火不稳定"),
            "logistics": ("快递三天没更新", "快递员没打电话就放驿站", "外箱被压坏"),
            "attitude": ("客服回复太慢", "安装师傅迟到还态度差"),
        }
        for index, order in enumerate(rng.sample(received, 30)):
            category = ("quality", "logistics", "attitude")[index % 3]
            created = min(order.delivered_at + timedelta(hours=rng.uniform(1, 72)), self.now - H)
            open_ = index < 16
            ticket = ComplaintTicket(
                customer_id=order.customer_id,
                order_id=order.id,
                kind="complaint",
                category=category,
                severity=rng.choice(("low", "medium", "high")),
                description=rng.choice(descriptions[category]),
                demand=rng.choice(("要求退款", "要求补偿", "希望尽快解决", "要求道歉")),
                options_offered=options[category],
                created_at=created.replace(microsecond=0),
                status="open" if open_ else "resolved",
                follow_up_due=(self.now + timedelta(hours=rng.uniform(-12, 48))).replace(
                    microsecond=0
                ),
                escalated=open_ and index % 5 == 0,
            )
            if not open_:
                ticket.chosen_option = rng.choice(options[category])
                ticket.resolution = f"已按顾客选择处理: {ticket.chosen_option}"
                ticket.resolved_at = min(created + 6 * H, self.now)
                ticket.compensation_fen = 2000 if "补偿" in ticket.chosen_option else 0
            self.s.add(ticket)
        shipments = [(o, p) for o in self.orders for p in o.shipments]
        stalled = [
            (o, p)
            for o, p in shipments
            if p.status != "delivered" and p.events and self.now - p.events[-1].occurred_at > 48 * H
        ]
        for order, parcel in stalled[::2]:
            self.s.add(
                ComplaintTicket(
                    customer_id=order.customer_id,
                    order_id=order.id,
                    shipment_id=parcel.id,
                    kind="logistics_chase",
                    category="logistics",
                    severity="medium",
                    description="物流超过48小时未更新, 已联系快递催件",
                    created_at=self.now - 6 * H,
                    options_offered=["催促快递并每天同步进度"],
                    status="open",
                    follow_up_due=self.now + 18 * H,
                )
            )
        proxies = [
            (o, p)
            for o, p in shipments
            if p.status == "delivered" and p.signed_by != "本人" and o.state == "delivered"
        ]
        for order, parcel in proxies[::3]:
            self.s.add(
                ComplaintTicket(
                    customer_id=order.customer_id,
                    order_id=order.id,
                    shipment_id=parcel.id,
                    kind="delivery_investigation",
                    category="logistics",
                    severity="high",
                    description=f"显示{parcel.signed_by}签收, 顾客称未收到, 已联系快递核实",
                    created_at=self.now - 3 * H,
                    options_offered=["核实签收情况", "重新补发"],
                    status="open",
                    follow_up_due=self.now + 1 * H,
                )
            )

    def appointments(self, providers: Dict[str, List[InstallationProvider]]) -> None:
        """Book installation visits for some delivered kitchen appliances."""
        rng = self.rng
        kitchen = [
            o
            for o in self.orders
            if self.departments[o.order_number] == "kitchen"
            and o.state in ("delivered", "completed")
        ]
        for order in rng.sample(kitchen, min(18, len(kitchen))):
            provider = providers[order.shipping_city][0]
            booked = order.delivered_at + timedelta(hours=rng.uniform(1, 24))
            day = (booked.astimezone(self.tz) + rng.randint(1, 4) * D).date()
            done = order.state == "completed"
            self.s.add(
                InstallationAppointment(
                    order_id=order.id,
                    customer_id=order.customer_id,
                    product_id=order.items[0].sku.product_id if order.items[0].sku else None,
                    provider_id=provider.id,
                    address=order.address_masked,
                    city=order.shipping_city,
                    date=day,
                    slot=rng.choice(("morning", "afternoon", "evening")),
                    status="done" if done else "booked",
                    contact_deadline=(booked + provider.contact_within_hours * H).replace(
                        microsecond=0
                    ),
                    created_at=booked.replace(microsecond=0),
                )
            )

    def build(self) -> None:
        """Add every row of the demo shop and flush."""
        self.catalogue()
        self.people()
        self.coupons()
        self.all_orders()
        self.after_sale()
        self.appointments(self.providers())
        self.marketing()
        self.s.flush()
