"""Repository queries on a small hand-made shop: a fresh SQLite per test, and the local
PostgreSQL (one database per run, emptied before each test) when it is reachable."""

import os
import sys
import uuid
import warnings
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from shop import repository as repo
from shop.db import make_engine, session_scope
from shop.db.models import (
    Agent,
    AntiCounterfeitCode,
    Base,
    ComplaintTicket,
    Coupon,
    Customer,
    Gift,
    InstallationProvider,
    Order,
    OrderItem,
    PriceHistory,
    Product,
    Promotion,
    ReturnRequest,
    Shipment,
    ShipmentEvent,
    Sku,
)
from shop.demo.seed import migrate
from tests.actions.conftest import order_row

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 11, 23, 10, 30, tzinfo=SHANGHAI)
D, H = timedelta(days=1), timedelta(hours=1)
PG_URL = os.environ.get("SHOP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SQLISH = ("' OR '1'='1", "1; DROP TABLE orders; --", "%", "_", "\\", "😀", "x" * 5000)


class PostgresSkipped(RuntimeWarning):
    """Shown in pytest's warnings summary when the PostgreSQL runs are skipped."""


def _postgres_unavailable():
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:  # any failure means: not reachable here
        host = make_url(PG_URL).set(password=None).render_as_string(hide_password=True)
        return f"PostgreSQL not reachable at {host}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="module")
def pg_url():
    reason = _postgres_unavailable()
    if reason:
        print(f"\n[test_repository] skipping the PostgreSQL runs: {reason}", file=sys.__stderr__)
        warnings.warn(PostgresSkipped(reason), stacklevel=1)
        pytest.skip(reason)
    name = f"shop_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        migrate(url)
        eng = make_engine(url)
    else:
        eng = make_engine(request.getfixturevalue("pg_url"))
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield eng
    eng.dispose()


def _customer(name, tail, city, personality, **extra):
    return Customer(
        name=name,
        nickname=f"{name}的小号",
        phone_masked=f"138****{tail}",
        phone_tail=tail,
        province="浙江省",
        city=city,
        address_masked=f"{city}市西湖区文三路**号",
        personality_type=personality,
        created_at=NOW - 300 * D,
        **extra,
    )


@pytest.fixture
def shop(engine):
    """Two customers, four products, five orders, parcels, coupons, promotions and more."""
    ns = SimpleNamespace(engine=engine)
    with session_scope(engine) as s:
        alice = _customer(
            "王芳",
            "1234",
            "杭州",
            "analytical",
            member_level="gold",
            points=1200,
            free_shipping_card_until=NOW + 30 * D,
            birthday=date(1990, 11, 30),
            baby_birth_date=date(2024, 5, 1),
            formula_daily_grams=110,
            preferences={"likes": ["薰衣草"]},
            notes=["皮肤敏感"],
        )
        bob = _customer("李强", "5678", "上海", "dominant")
        s.add_all([alice, bob])
        s.flush()
        carol = _customer("赵敏", "9012", "杭州", "amiable", referred_by_id=alice.id)
        hood = Product(
            code="H-J1",
            name="厨匠侧吸式油烟机J1",
            department="kitchen",
            category="油烟机",
            brand="厨匠",
            price_fen=299900,
            specs={"风量": "20m³/min"},
            needs_installation=True,
            mounting_height_min_mm=350,
            mounting_height_max_mm=450,
            flue_diameter_mm=160,
            warranty_years=5,
            authorisation_cert_no="CJ-1",
        )
        jeans = Product(
            code="C-JNS",
            name="衣见高腰直筒牛仔裤",
            department="apparel",
            category="裤装",
            brand="衣见",
            price_fen=16900,
            size_chart=[{"size": "M", "height_cm": [158, 165]}],
        )
        formula = Product(
            code="M-OG2",
            name="贝初有机婴儿配方奶粉2段",
            department="infant",
            category="奶粉",
            brand="贝初",
            price_fen=33800,
            specs={"net_weight_g": 800},
        )
        oil = Product(
            code="O-LAV",
            name="芳屿薰衣草精油",
            department="beauty",
            category="精油",
            brand="芳屿",
            price_fen=8900,
        )
        s.add_all([carol, hood, jeans, formula, oil])
        s.flush()
        grey = Sku(product_id=hood.id, code="H-J1-01", colour="星空灰", stock=5)
        black = Sku(
            product_id=hood.id,
            code="H-J1-02",
            colour="曜石黑",
            stock=0,
            restock_date=date(2024, 11, 30),
        )
        blue_m = Sku(product_id=jeans.id, code="C-JNS-01", colour="浅蓝", size="M", stock=3)
        blue_xl = Sku(
            product_id=jeans.id,
            code="C-JNS-02",
            colour="浅蓝",
            size="XL",
            stock=0,
            restock_date=date(2024, 12, 2),
        )
        navy_m = Sku(product_id=jeans.id, code="C-JNS-03", colour="深蓝", size="M", stock=7)
        can = Sku(product_id=formula.id, code="M-OG2-01", size="800g", stock=50)
        bottle = Sku(product_id=oil.id, code="O-LAV-01", size="10ml", stock=80)
        s.add_all([grey, black, blue_m, blue_xl, navy_m, can, bottle])
        for since, price, reason in (
            (90, 329900, "上市价"),
            (20, 299900, "日常价"),
            (5, 259900, "聚划算"),
            (2, 299900, "活动结束"),
        ):
            s.add(
                PriceHistory(
                    product_id=hood.id,
                    price_fen=price,
                    effective_from=NOW - since * D,
                    reason=reason,
                )
            )
        s.flush()

        shipped = order_row(
            "2024112012345",
            alice,
            "shipped",
            NOW - 3 * D,
            299900,
            paid_at=NOW - 3 * D + 5 * H / 60,
            shipped_at=NOW - 70 * H,
        )
        shipped.items = [OrderItem(sku_id=grey.id, quantity=1, unit_price_fen=299900)]
        stalled = Shipment(
            carrier="顺丰",
            tracking_number="SF1234567890123",
            status="in_transit",
            shipped_at=NOW - 70 * H,
        )
        stalled.events = [
            ShipmentEvent(occurred_at=NOW - 70 * H, location="宁波", description="已揽收"),
            ShipmentEvent(
                occurred_at=NOW - 60 * H, location="宁波", description="到达宁波转运中心"
            ),
            ShipmentEvent(occurred_at=NOW - 55 * H, location="宁波", description="发往杭州"),
        ]
        shipped.shipments = [stalled]
        delivered = order_row(
            "2024111500001",
            alice,
            "delivered",
            NOW - 5 * D,
            42700,
            paid_at=NOW - 5 * D,
            shipped_at=NOW - 4 * D,
            delivered_at=NOW - 2 * D,
        )
        delivered.items = [
            OrderItem(sku_id=blue_m.id, quantity=2, unit_price_fen=16900),
            OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900),
        ]
        parcel = Shipment(
            carrier="圆通",
            tracking_number="YT9876543210987",
            status="delivered",
            shipped_at=NOW - 4 * D,
            delivered_at=NOW - 2 * D,
            signed_by="快递柜",
        )
        parcel.events = [
            ShipmentEvent(occurred_at=NOW - 4 * D, location="杭州", description="已揽收"),
            ShipmentEvent(
                occurred_at=NOW - 2 * D, location="杭州", description="已签收, 签收人: 快递柜"
            ),
        ]
        delivered.shipments = [parcel]
        paid = order_row("2024112100777", bob, "paid", NOW - 10 * H, 8900, paid_at=NOW - 9 * H)
        paid.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        milk = order_row(
            "2024111000042",
            alice,
            "completed",
            NOW - 15 * D,
            101400,
            paid_at=NOW - 15 * D,
            shipped_at=NOW - 14 * D,
            delivered_at=NOW - 13 * D,
            completed_at=NOW - 3 * D,
        )
        milk.items = [OrderItem(sku_id=can.id, quantity=3, unit_price_fen=33800)]
        cancelled = order_row(
            "2024110100010", bob, "cancelled", NOW - 22 * D, 16900, cancelled_at=NOW - 21 * D
        )
        cancelled.items = [OrderItem(sku_id=navy_m.id, quantity=1, unit_price_fen=16900)]
        s.add_all([shipped, delivered, paid, milk, cancelled])

        for name, amount, threshold, start, end, used, category in (
            ("满199减20", 2000, 19900, -5, 10, False, None),
            ("无门槛5元", 500, 0, -1, 3, False, None),
            ("奶粉满400减30", 3000, 40000, -2, 5, False, "奶粉"),
            ("已用券", 5000, 0, -10, 10, True, None),
            ("过期券", 5000, 0, -30, -1, False, None),
            ("未生效券", 5000, 0, 2, 10, False, None),
        ):
            s.add(
                Coupon(
                    customer_id=alice.id,
                    name=name,
                    amount_fen=amount,
                    threshold_fen=threshold,
                    category=category,
                    valid_from=NOW + start * D,
                    valid_until=NOW + end * D,
                    used=used,
                )
            )
        s.add(
            Coupon(
                customer_id=bob.id,
                name="bob的券",
                amount_fen=9900,
                threshold_fen=0,
                valid_from=NOW - D,
                valid_until=NOW + D,
            )
        )
        s.add_all(
            [
                Promotion(
                    name="J1直降200",
                    product_id=hood.id,
                    discount_fen=20000,
                    starts_at=NOW - D,
                    ends_at=NOW + D,
                ),
                Promotion(
                    name="油烟机9折",
                    category="油烟机",
                    percent_off=10,
                    starts_at=NOW - D,
                    ends_at=NOW + 3 * D,
                ),
                Promotion(
                    name="过期活动",
                    category="油烟机",
                    discount_fen=50000,
                    starts_at=NOW - 30 * D,
                    ends_at=NOW - 20 * D,
                ),
                Promotion(
                    name="未来活动",
                    category="油烟机",
                    discount_fen=50000,
                    starts_at=NOW + 5 * D,
                    ends_at=NOW + 9 * D,
                ),
                Promotion(
                    name="精油立减",
                    category="精油",
                    discount_fen=1000,
                    starts_at=NOW - D,
                    ends_at=NOW + D,
                ),
            ]
        )
        s.add_all(
            [
                Gift(
                    name="厨房清洁套装", category="油烟机", min_order_fen=200000, stock=10, notes=""
                ),
                Gift(name="不粘炒锅", category="油烟机", min_order_fen=350000, stock=5, notes=""),
                Gift(name="已送完的围裙", category="油烟机", min_order_fen=0, stock=0, notes=""),
                Gift(
                    name="婴儿湿巾", category="奶粉", min_order_fen=20000, stock=9, notes="所有月龄"
                ),
            ]
        )
        s.add_all(
            [
                AntiCounterfeitCode(code="1234567890123456", product_id=formula.id),
                AntiCounterfeitCode(
                    code="6543210987654321", product_id=formula.id, used=True, used_at=NOW - 40 * D
                ),
                AntiCounterfeitCode(code="1111222233334444", product_id=oil.id),
            ]
        )
        s.add_all(
            [
                InstallationProvider(
                    name="安心安装(杭州)",
                    city="杭州",
                    service_point="杭州市西湖区1号",
                    categories=["油烟机", "燃气灶"],
                    contact_within_hours=24,
                    rating=4,
                ),
                InstallationProvider(
                    name="厨匠服务中心(杭州)",
                    city="杭州",
                    service_point="杭州市滨江区2号",
                    categories=["油烟机", "燃气灶", "热水器"],
                    contact_within_hours=12,
                    rating=5,
                ),
                InstallationProvider(
                    name="邻家师傅(上海)",
                    city="上海",
                    service_point="上海市浦东新区3号",
                    categories=["热水器"],
                    contact_within_hours=24,
                    rating=5,
                ),
            ]
        )
        s.add(
            ComplaintTicket(
                customer_id=alice.id,
                order_id=None,
                kind="complaint",
                category="attitude",
                severity="low",
                description="回复慢",
                status="open",
                created_at=NOW - D,
                follow_up_due=NOW + D,
            )
        )
        s.flush()
        ns.alice, ns.bob, ns.carol = alice.id, bob.id, carol.id
        ns.hood, ns.jeans, ns.formula, ns.oil = hood.id, jeans.id, formula.id, oil.id
        ns.shipped, ns.delivered, ns.paid, ns.milk = shipped.id, delivered.id, paid.id, milk.id
    return ns


# -- identity: orders ---------------------------------------------------------------------


def test_order_found_for_its_customer_id_or_phone_tail(shop):
    with session_scope(shop.engine) as s:
        assert repo.find_order_for_customer(s, "2024112012345", shop.alice).id == shop.shipped
        assert repo.find_order_for_customer(s, "2024112012345", str(shop.alice)).id == shop.shipped
        assert repo.find_order_by_phone_tail(s, "2024112012345", "1234").id == shop.shipped
        assert (
            repo.find_order(s, "２０２４１１２０１２３４５", phone_tail="１２３４").id
            == shop.shipped
        )


def test_not_found_and_not_yours_give_the_same_answer(shop):
    with session_scope(shop.engine) as s:
        not_yours = repo.find_order_for_customer(s, "2024112012345", shop.bob)
        not_found = repo.find_order_for_customer(s, "2024112099999", shop.bob)
        wrong_tail = repo.find_order_by_phone_tail(s, "2024112012345", "5678")
        unknown_tail = repo.find_order_by_phone_tail(s, "2024112099999", "1234")
        assert not_yours is None and not_found is None
        assert wrong_tail is None and unknown_tail is None
        assert repo.find_order(s, "2024112012345") is None  # no proof of identity at all


@pytest.mark.parametrize(
    "number,tail",
    [
        ("202411201234", "1234"),
        ("20241120123456", "1234"),
        ("3024112012345", "1234"),
        ("2024112012345", "12345"),
        ("2024112012345", "123"),
        ("2024112012345", "abcd"),
        (2024112012345, None),
        (None, "1234"),
    ],
)
def test_malformed_order_number_or_tail_finds_nothing(shop, number, tail):
    with session_scope(shop.engine) as s:
        assert repo.find_order(s, number, phone_tail=tail) is None


@pytest.mark.parametrize("value", SQLISH)
def test_sql_looking_input_is_plain_data(shop, value):
    with session_scope(shop.engine) as s:
        assert repo.find_order(s, value, phone_tail=value, customer_id=value) is None
        assert repo.find_order(s, "2024112012345", phone_tail=value) is None
        assert repo.find_shipment_by_tracking(s, value, NOW, customer_id=shop.alice) is None
        assert repo.find_products(s, value) == []
        assert repo.stock_for(s, "牛仔裤", colour=value) == []
        assert repo.providers_for_city(s, value) == []
        assert repo.verify_anti_counterfeit_code(s, value, NOW).status == "not_found"
        assert repo.authenticate_agent(s, value, value) is None
    with session_scope(shop.engine) as s:
        assert s.execute(select(func.count(Order.id))).scalar_one() == 5
        assert s.execute(select(func.count(Product.id))).scalar_one() == 4


@pytest.mark.parametrize("cid", [10**30, 2**31, -1, 0, True, 1.0, "1e3", "１", [1], {"id": 1}])
def test_odd_customer_ids_find_nothing_and_never_fail(shop, cid):
    with session_scope(shop.engine) as s:
        if cid == "１":  # full-width one is a real id after normalisation: alice is customer 1
            assert repo.get_customer(s, cid).id == 1
            return
        assert repo.find_order_for_customer(s, "2024112012345", cid) is None
        assert repo.orders_for_customer(s, cid) == []
        assert repo.customer_profile(s, cid, NOW) is None
        assert repo.coupons_valid_now(s, cid, NOW) == []


def test_orders_for_customer_newest_first_and_by_state(shop):
    with session_scope(shop.engine) as s:
        numbers = [o.order_number for o in repo.orders_for_customer(s, shop.alice)]
        assert numbers == ["2024112012345", "2024111500001", "2024111000042"]
        shipped = repo.orders_for_customer(s, shop.alice, states=["shipped", "delivered"], limit=1)
        assert [o.order_number for o in shipped] == ["2024112012345"]


def test_order_items_with_product_facts_and_integer_money(shop):
    with session_scope(shop.engine) as s:
        order = repo.find_order_for_customer(s, "2024111500001", shop.alice)
        items = repo.order_items(s, order)
    assert [(i.product_name, i.colour, i.size, i.quantity) for i in items] == [
        ("衣见高腰直筒牛仔裤", "浅蓝", "M", 2),
        ("芳屿薰衣草精油", None, "10ml", 1),
    ]
    assert [i.line_total_fen for i in items] == [33800, 8900]
    assert all(type(i.unit_price_fen) is int and type(i.line_total_fen) is int for i in items)
    assert sum(i.line_total_fen for i in items) == order.items_total_fen
    assert type(order.payable_fen) is int


# -- logistics ----------------------------------------------------------------------------


def test_shipment_with_latest_events_newest_first_and_stalled(shop):
    with session_scope(shop.engine) as s:
        order = repo.find_order_by_phone_tail(s, "2024112012345", "1234")
        view = repo.latest_shipment_for_order(s, order, NOW, events=2)
    assert (view.carrier, view.tracking_number, view.order_number) == (
        "顺丰",
        "SF1234567890123",
        "2024112012345",
    )
    assert [e.description for e in view.events] == ["发往杭州", "到达宁波转运中心"]
    assert view.last_update_at == NOW - 55 * H and view.last_update_at.tzinfo is not None
    assert view.hours_since_update == 55 and view.stalled and not view.delivered


def test_recent_update_is_not_stalled_and_delivered_is_never_stalled(shop):
    with session_scope(shop.engine) as s:
        order = s.get(Order, shop.shipped)
        fresh = repo.latest_shipment_for_order(s, order, NOW - 20 * H)
        assert fresh.hours_since_update == 35 and not fresh.stalled
        done = repo.latest_shipment_for_order(s, s.get(Order, shop.delivered), NOW + 30 * D)
        assert done.delivered and not done.stalled and done.signed_by == "快递柜"
        assert repo.latest_shipment_for_order(s, s.get(Order, shop.paid), NOW) is None


def test_tracking_number_lookup_proves_ownership(shop):
    with session_scope(shop.engine) as s:
        mine = repo.find_shipment_by_tracking(s, "sf 1234-5678-90123", NOW, phone_tail="1234")
        assert mine.order_number == "2024112012345"
        assert (
            repo.find_shipment_by_tracking(s, "SF1234567890123", NOW, customer_id=shop.bob) is None
        )
        assert (
            repo.find_shipment_by_tracking(s, "SF0000000000000", NOW, customer_id=shop.bob) is None
        )
        assert repo.find_shipment_by_tracking(s, "SF1234567890123", NOW) is None


def test_stalled_shipments_lists_only_parcels_without_updates_for_48_hours(shop):
    with session_scope(shop.engine) as s:
        assert [v.tracking_number for v in repo.stalled_shipments(s, NOW)] == ["SF1234567890123"]
        assert repo.stalled_shipments(s, NOW - 8 * H) == []


# -- catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,expected",
    [
        ("厨匠侧吸式油烟机J1", "厨匠侧吸式油烟机J1"),
        ("油烟机", "厨匠侧吸式油烟机J1"),
        ("抽油烟机", "厨匠侧吸式油烟机J1"),
        ("牛仔裤", "衣见高腰直筒牛仔裤"),
        ("裤子", "衣见高腰直筒牛仔裤"),
        ("薰衣草", "芳屿薰衣草精油"),
        ("奶粉", "贝初有机婴儿配方奶粉2段"),
        ("有机奶粉2段", "贝初有机婴儿配方奶粉2段"),
        ("厨匠油烟机", "厨匠侧吸式油烟机J1"),
    ],
)
def test_product_by_name_or_category_fuzzy(shop, query, expected):
    with session_scope(shop.engine) as s:
        assert repo.find_product(s, query).name == expected


def test_product_search_returns_nothing_for_unrelated_text(shop):
    with session_scope(shop.engine) as s:
        assert repo.find_product(s, "") is None
        assert repo.find_products(s, "宇宙飞船") == []


def test_stock_by_colour_and_size_with_restock_date(shop):
    with session_scope(shop.engine) as s:
        all_jeans = repo.stock_for(s, "牛仔裤")
        assert [(i.colour, i.size, i.stock) for i in all_jeans] == [
            ("浅蓝", "M", 3),
            ("浅蓝", "XL", 0),
            ("深蓝", "M", 7),
        ]
        sold_out = repo.stock_for(s, "牛仔裤", colour="浅蓝", size="xl")
        assert len(sold_out) == 1 and not sold_out[0].in_stock
        assert sold_out[0].restock_date == date(2024, 12, 2)
        assert [i.colour for i in repo.stock_for(s, "油烟机", colour="黑")] == ["曜石黑"]
        assert repo.stock_for(s, "牛仔裤", size="XXL") == []
        assert repo.stock_for(s, "宇宙飞船") == []


def test_lowest_price_since_counts_the_price_in_effect_and_later_changes(shop):
    with session_scope(shop.engine) as s:
        assert repo.price_at(s, shop.hood, NOW) == 299900
        assert repo.price_at(s, shop.hood, NOW - 100 * D) is None
        assert repo.lowest_price_since(s, shop.hood, NOW - 10 * D) == 259900
        assert repo.lowest_price_since(s, shop.hood, NOW - 1 * D) == 299900
        assert repo.lowest_price_since(s, shop.hood, NOW - 30 * D, NOW - 6 * D) == 299900
        assert repo.lowest_price_since(s, shop.hood, NOW - 100 * D) == 259900
        assert repo.lowest_price_since(s, shop.oil, NOW - 10 * D) is None
        assert type(repo.lowest_price_since(s, shop.hood, NOW - 10 * D)) is int


def test_active_promotions_for_product_and_category(shop):
    with session_scope(shop.engine) as s:
        hood = repo.get_product(s, shop.hood)
        names = [p.name for p in repo.active_promotions(s, hood, NOW)]
        assert names == ["油烟机9折", "J1直降200"]  # 10% of 2999 yuan saves more than 200 yuan
        assert [p.name for p in repo.active_promotions(s, hood, NOW + 2 * D)] == ["油烟机9折"]
        assert repo.active_promotions(s, repo.get_product(s, shop.jeans), NOW) == []


def test_gifts_fit_category_amount_and_stock(shop):
    with session_scope(shop.engine) as s:
        assert [g.name for g in repo.gifts_for(s, "油烟机", 400000)] == ["不粘炒锅", "厨房清洁套装"]
        assert [g.name for g in repo.gifts_for(s, "抽油烟机", 250000)] == ["厨房清洁套装"]
        assert repo.gifts_for(s, "油烟机", 100) == []
        assert [g.name for g in repo.gifts_for(s, "奶粉", 10**12)] == ["婴儿湿巾"]
        assert repo.gifts_for(s, "精油", 10**6) == []


def test_anti_counterfeit_code_first_check_then_warning(shop):
    with session_scope(shop.engine) as s:
        first = repo.verify_anti_counterfeit_code(
            s, "1234 5678-9012 3456", NOW, product_id=shop.formula
        )
        assert (first.status, first.product_name) == ("genuine", "贝初有机婴儿配方奶粉2段")
    with session_scope(shop.engine) as s:
        again = repo.verify_anti_counterfeit_code(s, "1234567890123456", NOW + H)
        assert again.status == "already_checked" and again.first_checked_at == NOW
        old = repo.verify_anti_counterfeit_code(s, "6543210987654321", NOW)
        assert old.status == "already_checked" and old.first_checked_at == NOW - 40 * D
        other = repo.verify_anti_counterfeit_code(
            s, "1111222233334444", NOW, product_id=shop.formula
        )
        assert other.status == "other_product"
        assert repo.verify_anti_counterfeit_code(s, "0000000000000000", NOW).status == "not_found"
    with session_scope(shop.engine) as s:
        unused = s.execute(
            select(AntiCounterfeitCode).where(AntiCounterfeitCode.code == "1111222233334444")
        ).scalar_one()
        assert not unused.used  # a mismatched check does not use up the code


# -- customers ----------------------------------------------------------------------------


def test_coupons_valid_now(shop):
    with session_scope(shop.engine) as s:
        names = [c.name for c in repo.coupons_valid_now(s, shop.alice, NOW)]
        assert names == ["奶粉满400减30", "满199减20", "无门槛5元"]
        assert [
            c.name for c in repo.coupons_valid_now(s, shop.alice, NOW, order_amount_fen=25000)
        ] == ["满199减20", "无门槛5元"]
        assert [c.name for c in repo.coupons_valid_now(s, shop.alice, NOW, category="精油")] == [
            "满199减20",
            "无门槛5元",
        ]
        assert all(type(c.amount_fen) is int for c in repo.coupons_valid_now(s, shop.alice, NOW))
        assert repo.coupons_valid_now(s, shop.carol, NOW) == []


def test_customer_profile_summary(shop):
    with session_scope(shop.engine) as s:
        profile = repo.customer_profile(s, shop.alice, NOW)
    assert profile.phone_masked == "138****1234" and "*" in profile.address_masked
    assert profile.personality_type == "analytical" and profile.member_level == "gold"
    assert profile.free_shipping_card_active and profile.days_to_birthday == 7
    assert profile.order_count == 3 and profile.total_spent_fen == 299900 + 42700 + 101400
    assert type(profile.total_spent_fen) is int
    assert profile.last_order_at == NOW - 3 * D
    assert (profile.open_tickets, profile.valid_coupons, profile.referrals) == (1, 3, 1)
    assert profile.baby_age_months == 6
    # 3 cans x 800 g at 110 g a day last 21 days from delivery (13 days ago)
    assert profile.formula_runs_out_on == (NOW - 13 * D + 21 * D).date()
    assert profile.preferences == {"likes": ["薰衣草"]} and profile.notes == ["皮肤敏感"]
    assert not any(
        len(v) == 11 and v.isdigit() for v in vars(profile).values() if isinstance(v, str)
    )


# -- after-sale ---------------------------------------------------------------------------


def test_return_is_refunded_the_moment_its_tracking_number_is_given(shop):
    with session_scope(shop.engine) as s:
        order = repo.find_order_by_phone_tail(s, "2024111500001", "1234")
        assert repo.within_no_reason_window(order, NOW)
        assert not repo.within_no_reason_window(order, NOW + 6 * D)
        item = order.items[0]
        request = repo.create_return(
            s, order, reason="尺码偏小'); DROP TABLE returns; --", now=NOW, order_item=item
        )
        assert request.refund_fen == 33800 and request.status == "approved"
        with pytest.raises(ValueError):
            repo.record_return_shipment(s, request, "'; --", NOW)
        repo.record_return_shipment(s, request, "yt 5555-6666-77778", NOW + H)
    with session_scope(shop.engine) as s:
        stored = s.execute(select(ReturnRequest)).scalar_one()
        assert stored.reason == "尺码偏小'); DROP TABLE returns; --"
        assert (stored.status, stored.return_tracking_number) == ("refunded", "YT5555666677778")
        assert (stored.refund_state, stored.refund_state_by) == ("issued", "bot")
        assert stored.refunded_at == stored.return_shipped_at == NOW + H
        assert [r.id for r in repo.returns_for_order(s, s.get(Order, shop.delivered))] == [
            stored.id
        ]


def test_exchange_and_invalid_returns(shop):
    with session_scope(shop.engine) as s:
        order = s.get(Order, shop.delivered)
        exchange = repo.create_return(s, order, reason="换大一码", now=NOW, kind="exchange")
        assert exchange.refund_fen == 0
        assert repo.record_return_shipment(s, exchange, "SF111122223333", NOW).status == (
            "exchange_shipped"
        )
        assert exchange.refund_state is None  # sent at once: nothing for a person to decide
        held = repo.create_return(s, order, reason="换个颜色", now=NOW, kind="exchange")
        held = repo.record_return_shipment(s, held, "SF1111222233", NOW)  # no carrier's format
        assert (held.status, held.refund_state, held.review_reason) == (
            "return_shipped",
            "under_review",
            "unconfirmed_number",
        )
        whole = repo.create_return(s, order, reason="", now=NOW)
        assert whole.refund_fen == order.payable_fen and whole.reason == "未说明"
        with pytest.raises(ValueError):
            repo.create_return(s, order, reason="x", now=NOW, refund_fen=12.5)
        with pytest.raises(ValueError):
            repo.create_return(s, order, reason="x", now=NOW, kind="steal")
        with pytest.raises(ValueError):
            repo.create_return(
                s, order, reason="x", now=NOW, order_item=s.get(Order, shop.milk).items[0]
            )


def test_complaint_ticket_follow_up_and_escalation_by_authority(shop):
    with session_scope(shop.engine) as s:
        ticket = repo.create_ticket(
            s,
            customer_id=shop.alice,
            now=NOW,
            category="quality",
            severity="high",
            description="收到是坏的",
            demand="要求赔偿",
            order_id=shop.delivered,
            options_offered=["补发", "退货退款", "补偿20元"],
        )
        assert ticket.follow_up_due == NOW + 4 * H and ticket.status == "open"
        repo.record_ticket_choice(
            s, ticket, chosen_option="补偿80元", now=NOW, compensation_fen=8000
        )
        assert ticket.escalated and ticket.status == "open"
        repo.record_ticket_choice(
            s,
            ticket,
            chosen_option="补偿80元",
            now=NOW + H,
            compensation_fen=8000,
            authority_fen=50000,
        )
        assert ticket.status == "resolved" and ticket.resolved_at == NOW + H
        chase = repo.create_ticket(
            s,
            customer_id=shop.alice,
            now=NOW,
            category="logistics",
            kind="logistics_chase",
            severity="low",
        )
        assert chase.follow_up_due == NOW + 48 * H
        with pytest.raises(ValueError):
            repo.create_ticket(s, customer_id=shop.alice, now=NOW, category="weather")
        with pytest.raises(ValueError):
            repo.record_ticket_choice(s, chase, chosen_option="x", now=NOW, compensation_fen=1.5)
        assert [t.kind for t in repo.open_tickets(s, shop.alice)] == [
            "complaint",
            "logistics_chase",
        ]
        assert repo.open_tickets(s, shop.alice, kind="logistics_chase") == [chase]
    with session_scope(shop.engine) as s:
        stored = s.get(ComplaintTicket, ticket.id)
        assert stored.options_offered == ["补发", "退货退款", "补偿20元"]
        assert stored.compensation_fen == 8000


# -- installation -------------------------------------------------------------------------


def test_providers_by_city_and_category(shop):
    with session_scope(shop.engine) as s:
        assert [p.name for p in repo.providers_for_city(s, "杭州市")] == [
            "厨匠服务中心(杭州)",
            "安心安装(杭州)",
        ]
        assert [p.name for p in repo.providers_for_city(s, "杭州", category="热水器")] == [
            "厨匠服务中心(杭州)"
        ]
        assert repo.providers_for_city(s, "上海", category="油烟机") == []
        assert repo.providers_for_city(s, "拉萨") == []


def test_installation_appointment_records_the_contact_deadline(shop):
    with session_scope(shop.engine) as s:
        provider = repo.providers_for_city(s, "杭州")[0]
        booked = repo.create_installation_appointment(
            s,
            customer_id=shop.alice,
            provider=provider,
            address="杭州市西湖区文三路100号3幢",
            day=date(2024, 11, 30),
            slot="morning",
            now=NOW,
            order_id=shop.shipped,
            product_id=shop.hood,
        )
        # 10:30 + 12 h of waking time: 11.5 h today, the last half hour after 08:00 tomorrow
        assert booked.contact_deadline == NOW + 22 * H and booked.city == "杭州"
        for bad in ({"slot": "midnight"}, {"day": date(2024, 11, 22)}, {"address": "   "}):
            kwargs = dict(
                customer_id=shop.alice,
                provider=provider,
                address="地址",
                day=date(2024, 11, 30),
                slot="evening",
                now=NOW,
            )
            kwargs.update(bad)
            with pytest.raises(ValueError):
                repo.create_installation_appointment(s, **kwargs)
        today = repo.create_installation_appointment(
            s,
            customer_id=shop.alice,
            provider=provider,
            address="地址",
            day=date(2024, 11, 23),
            slot="evening",
            now=NOW,
        )
        assert today.date == date(2024, 11, 23)


# -- staff --------------------------------------------------------------------------------


def test_agent_passwords_are_salted_and_checked(shop):
    first, second = repo.hash_password("s3cret"), repo.hash_password("s3cret")
    assert first != second and "s3cret" not in first
    assert repo.verify_password("s3cret", first) and not repo.verify_password("S3cret", first)
    assert not repo.verify_password("s3cret", "garbage")
    with session_scope(shop.engine) as s:
        repo.create_agent(s, "lead", "lead-pass", "supervisor", "组长")
        with pytest.raises(ValueError):
            repo.create_agent(s, "boss", "x", "owner", "老板")
    with session_scope(shop.engine) as s:
        lead = repo.authenticate_agent(s, "lead", "lead-pass")
        assert lead.compensation_limit_fen == 50000 and lead.role == "supervisor"
        assert repo.authenticate_agent(s, "lead", "wrong") is None
        assert repo.authenticate_agent(s, "nobody", "lead-pass") is None


def test_staff_names_are_stored_and_found_in_the_consoles_form(shop):
    with session_scope(shop.engine) as s:
        created = repo.create_agent(s, "  Ｌｅａｄ\u200b ", "lead-pass", "supervisor", "组长")
        assert created.username == "lead"
        with pytest.raises(ValueError):
            repo.create_agent(s, "\u200b \u00ad", "x", "agent", "无名")
    with pytest.raises(IntegrityError):  # a look-alike of a name is the same account
        with session_scope(shop.engine) as s:
            repo.create_agent(s, "LEAD", "other-pass", "agent", "冒名")
    with session_scope(shop.engine) as s:
        assert s.execute(select(Agent.username)).scalars().all() == ["lead"]
        for typed in ("lead", "ｌｅａｄ", "LEAD", "le\u200dad", " Lead "):
            assert repo.authenticate_agent(s, typed, "lead-pass").id == created.id
        assert repo.authenticate_agent(s, "ｌｅａｄ", "Lead-pass") is None
        assert repo.authenticate_agent(s, "lea d", "lead-pass") is None
        assert repo.authenticate_agent(s, ["lead"], "lead-pass") is None


def test_times_come_back_timezone_aware_in_utc(shop):
    with session_scope(shop.engine) as s:
        order = s.get(Order, shop.shipped)
        assert order.created_at == NOW - 3 * D
        assert order.created_at.utcoffset() == timedelta(0)
        assert order.created_at.tzinfo == timezone.utc
