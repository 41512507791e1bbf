"""Schema, migrations, settings, engine and the demo shop seed (fresh SQLite under tmp_path)."""

import hashlib
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Integer, String, Text, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from shop import repository as repo
from shop import settings
from shop.db import make_engine, session_scope
from shop.db.models import (
    ORDER_STATES,
    Agent,
    Base,
    ComplaintTicket,
    Coupon,
    Customer,
    CustomerSignOut,
    Gift,
    InstallationProvider,
    Order,
    OrderItem,
    Product,
    Promotion,
    Shipment,
    Sku,
)
from shop.demo import seed
from shop.policy.compensation import COMPENSATION_LIMIT_FEN

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = seed.DEMO_NOW
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def migrated(tmp_path):
    url = sqlite_url(tmp_path / "shop.db")
    seed.migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo shop seeded at the fixed DEMO_NOW, shared by the read-only checks below."""
    url = sqlite_url(tmp_path_factory.mktemp("demo") / "shop.db")
    report = seed.run(url, NOW, demo=True, accounts=True)
    engine = make_engine(url)
    yield engine, report, url
    engine.dispose()


# -- schema and migrations ----------------------------------------------------------------


def test_migration_creates_exactly_the_models_schema(migrated):
    with migrated.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_lookup_columns_are_indexed(migrated):
    inspector = inspect(migrated)

    def indexed(table, column):
        names = [ix["column_names"][0] for ix in inspector.get_indexes(table)]
        uniques = [uc["column_names"][0] for uc in inspector.get_unique_constraints(table)]
        return column in names + uniques

    assert indexed("orders", "order_number")
    assert indexed("shipments", "tracking_number")
    assert indexed("customers", "phone_tail")
    assert indexed("returns", "return_tracking_number")


def test_every_money_column_is_an_integer():
    money = [c for t in Base.metadata.tables.values() for c in t.columns if c.name.endswith("_fen")]
    assert len(money) >= 12
    assert all(isinstance(c.type, Integer) for c in money)


def test_foreign_keys_are_declared_and_enforced_on_sqlite(migrated):
    assert inspect(migrated).get_foreign_keys("order_items")
    with pytest.raises(IntegrityError):
        with session_scope(migrated) as session:
            session.add(OrderItem(order_id=999, sku_id=999, quantity=1, unit_price_fen=100))


def test_invalid_personality_type_is_refused(migrated):
    with pytest.raises(IntegrityError):
        with session_scope(migrated) as session:
            session.add(
                Customer(
                    name="测试",
                    nickname="t",
                    phone_masked="138****0000",
                    phone_tail="0000",
                    province="浙江省",
                    city="杭州",
                    address_masked="杭州**",
                    personality_type="grumpy",
                )
            )


def test_moments_are_stored_in_utc_and_naive_ones_refused(migrated):
    paid = datetime(2024, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with session_scope(migrated) as session:
        session.add(
            Product(
                code="X",
                name="测试品",
                department="snacks",
                category="坚果",
                brand="松果仓",
                price_fen=100,
                created_at=paid,
            )
        )
    with session_scope(migrated) as session:
        stored = session.execute(select(Product.created_at)).scalar_one()
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == paid and stored.hour == 1
    shown = settings.to_shop_time(stored)
    assert (shown.hour, shown.utcoffset()) == (9, timedelta(hours=8))
    with pytest.raises(StatementError):
        with session_scope(migrated) as session:
            session.add(
                Product(
                    code="Y",
                    name="naive",
                    department="snacks",
                    category="坚果",
                    brand="松果仓",
                    price_fen=1,
                    created_at=datetime(2024, 1, 1),
                )
            )


def test_sign_out_generations_kept_by_an_earlier_table_survive_the_migration(tmp_path):
    url = sqlite_url(tmp_path / "shop.db")
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(url=url, configure_logging=False)
    command.upgrade(config, "0005")
    engine = make_engine(url)
    with engine.begin() as conn:  # the table as the web app created it before revision 0006
        conn.execute(
            text(
                "CREATE TABLE customer_signouts (customer_id INTEGER PRIMARY KEY, "
                "generation INTEGER NOT NULL, signed_out_at DATETIME NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customers (id, name, nickname, phone_masked, phone_tail, province,"
                " city, address_masked, member_level, points, personality_type, preferences,"
                " notes, created_at) VALUES (7, '王', 'w', '138****0007', '0007', '浙江', '杭州',"
                " '杭州市****', 'regular', 0, 'amiable', '{}', '[]', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customer_signouts VALUES (7, 3, '2026-02-03 04:05:06.000000'),"
                " (99, 1, '2026-02-03 04:05:06.000000')"
            )
        )
    engine.dispose()
    seed.migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(select(CustomerSignOut)).scalars().all()
        assert [(row.customer_id, row.generation) for row in rows] == [(7, 3)]
        assert rows[0].signed_out_at == datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
        session.delete(session.get(Customer, 7))  # a customer's generation goes with them
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customer_signouts")).scalar() == 0
        tables = set(inspect(conn).get_table_names())
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert "customer_signouts_interim" not in tables
    engine.dispose()


def test_staff_names_stored_in_another_form_are_rewritten_where_they_stay_unique(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = sqlite_url(tmp_path / "shop.db")
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(url=url, configure_logging=False)
    command.upgrade(config, "0006")
    engine = make_engine(url)
    typed = ["Ｌｅａｄ", "trainer", "Agent", "agent\u200b", "Ｏｐｓ Team"]
    with engine.begin() as conn:
        for number, name in enumerate(typed, start=1):
            conn.execute(
                text(
                    "INSERT INTO agents (id, username, display_name, role, password_hash,"
                    " compensation_limit_fen, active, created_at) VALUES (:id, :name, 'x',"
                    " 'agent', 'scrypt$', 0, 1, '2026-01-01 00:00:00')"
                ),
                {"id": number, "name": name},
            )
    engine.dispose()
    seed.migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT username FROM agents ORDER BY id")).scalars().all()
    engine.dispose()
    # two look-alikes of "agent" are left for a person to rename
    assert names == ["lead", "trainer", "Agent", "agent\u200b", "ops team"]


def test_downgrade_removes_every_table(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = sqlite_url(tmp_path / "shop.db")
    seed.migrate(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(url=url, configure_logging=False)
    command.downgrade(config, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


# -- settings and engine ------------------------------------------------------------------


def test_settings_default_to_the_embedded_demo_database(monkeypatch, tmp_path):
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHOP_DEMO", raising=False)
    monkeypatch.delenv("SHOP_TIMEZONE", raising=False)
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    config = settings.load()
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'shop.db'}"
    assert config.demo and config.demo_accounts_allowed
    assert config.timezone == "Asia/Shanghai"


def test_a_given_database_url_turns_demo_accounts_off(monkeypatch):
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://shop@db.invalid/shop")
    monkeypatch.delenv("SHOP_DEMO", raising=False)
    assert not settings.load().demo
    monkeypatch.setenv("SHOP_DEMO", "1")
    config = settings.load()
    assert config.demo and not config.demo_accounts_allowed


def test_importing_the_modules_creates_no_engine_and_no_file(tmp_path):
    code = (
        "import shop.db.engine, shop.db.models, shop.repository, shop.demo.seed, shop.settings;"
        "assert shop.db.engine._engine is None"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SHOP_VAR_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    assert list(tmp_path.iterdir()) == []


def test_session_scope_commits_on_success_and_rolls_back_on_error(migrated):
    with pytest.raises(RuntimeError):
        with session_scope(migrated) as session:
            session.add(Gift(name="开果器", category="坚果", min_order_fen=0, stock=1, notes=""))
            session.flush()
            raise RuntimeError("boom")
    with session_scope(migrated) as session:
        session.add(Gift(name="湿巾", category="坚果", min_order_fen=0, stock=1, notes=""))
    with session_scope(migrated) as session:
        assert session.execute(select(Gift.name)).scalars().all() == ["湿巾"]


# -- the demo shop ------------------------------------------------------------------------


def test_demo_shop_has_the_promised_size(demo):
    _, report, _ = demo
    counts = report.counts
    assert report.shop_seeded and report.accounts_created == 3
    assert counts["products"] >= 60 and counts["skus"] >= 200
    assert counts["customers"] >= 100 and counts["orders"] >= 500
    for table in (
        "shipment_events",
        "price_history",
        "complaint_tickets",
        "returns",
        "coupons",
        "promotions",
        "gifts",
        "installation_providers",
        "anti_counterfeit_codes",
        "installation_appointments",
    ):
        assert counts[table] > 0, table


def test_demo_shop_covers_every_category_with_its_facts(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        products = session.execute(select(Product)).scalars().all()
        by_category = {}
        for product in products:
            by_category.setdefault(product.category, []).append(product)
        for category in (
            "油烟机",
            "燃气灶",
            "热水器",
            "精油",
            "护肤",
            "坚果",
            "零食",
            "裤装",
            "上衣",
            "鞋",
            "奶粉",
        ):
            assert by_category.get(category), category
        for category in ("油烟机", "燃气灶", "热水器"):
            assert all(p.needs_installation and p.warranty_years > 0 for p in by_category[category])
        assert all(p.flue_diameter_mm and p.mounting_height_min_mm for p in by_category["油烟机"])
        for category in ("裤装", "上衣", "鞋"):
            for product in by_category[category]:
                chart = product.size_chart
                assert chart and all(
                    isinstance(v, list) and v[0] < v[1]
                    for row in chart
                    for k, v in row.items()
                    if k != "size"
                )
        assert all(p.authorisation_cert_no for p in by_category["奶粉"] + by_category["精油"])
        brands = {p.brand for p in products}
        assert {"厨匠", "芳屿", "松果仓", "衣见", "贝初"} <= brands
        assert all(isinstance(p.price_fen, int) and p.price_fen > 0 for p in products)


def test_orders_exist_in_every_state_with_well_formed_numbers(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        orders = session.execute(select(Order)).scalars().all()
    assert {o.state for o in orders} == set(ORDER_STATES)
    for order in orders:
        assert re.fullmatch(r"20\d{11}", order.order_number)
        assert order.order_number[:8] == order.created_at.astimezone(SHANGHAI).strftime("%Y%m%d")
        assert (
            order.payable_fen == order.items_total_fen - order.discount_fen + order.shipping_fee_fen
        )
        if order.state == "unpaid":
            assert order.paid_at is None and order.cancelled_at is None
        if order.state in ("paid", "shipped", "delivered", "completed"):
            assert order.paid_at is not None and order.paid_at >= order.created_at
        if order.state in ("shipped", "delivered", "completed"):
            assert order.shipped_at >= order.paid_at
        if order.state in ("delivered", "completed"):
            assert order.delivered_at > order.shipped_at
        if order.state == "cancelled":
            assert order.cancelled_at is not None and order.shipped_at is None
        assert order.created_at <= NOW
    assert len({o.order_number for o in orders}) == len(orders)


def test_every_number_a_customer_sees_is_masked(demo):
    engine, _, _ = demo
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            text_columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
            for row in conn.execute(select(*text_columns)) if text_columns else []:
                for value in row:
                    assert not (value and FULL_PHONE.search(str(value))), (table.name, value)
    with session_scope(engine) as session:
        for customer in session.execute(select(Customer)).scalars():
            assert re.fullmatch(r"1\d{2}\*{4}\d{4}", customer.phone_masked)
            assert customer.phone_masked.endswith(customer.phone_tail)
            assert "*" in customer.address_masked


def test_logistics_cases_normal_stalled_and_delivered_not_received(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        stalled = repo.stalled_shipments(session, NOW)
        assert len(stalled) >= 5
        assert all(v.hours_since_update >= 48 and v.stalled for v in stalled)
        moving = (
            session.execute(
                select(Shipment).where(Shipment.status.in_(("in_transit", "out_for_delivery")))
            )
            .scalars()
            .all()
        )
        assert len(moving) > len(stalled)
        proxy = (
            session.execute(
                select(Shipment)
                .join(Order)
                .where(Order.state == "delivered", Shipment.signed_by != "本人")
            )
            .scalars()
            .all()
        )
        assert len(proxy) >= 5
        for parcel in proxy[:5]:
            assert parcel.events[-1].description.startswith(
                f"【{parcel.order.shipping_city}】已签收"
            )
        investigations = (
            session.execute(
                select(ComplaintTicket).where(ComplaintTicket.kind == "delivery_investigation")
            )
            .scalars()
            .all()
        )
        assert investigations


def test_some_prices_dropped_after_purchase(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        rows = session.execute(
            select(OrderItem, Order, Sku)
            .join(Order, Order.id == OrderItem.order_id)
            .join(Sku, Sku.id == OrderItem.sku_id)
            .where(Order.paid_at >= NOW - timedelta(days=15))
        ).all()
        drops = [
            item
            for item, order, sku in rows
            if repo.lowest_price_since(session, sku.product_id, order.paid_at, NOW)
            < item.unit_price_fen
        ]
    assert len(drops) >= 5


def test_service_data_fits_the_customers(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        cities = set(session.execute(select(Customer.city)).scalars())
        provider_cities = set(session.execute(select(InstallationProvider.city)).scalars())
        assert cities <= provider_cities
        open_complaints = (
            session.execute(
                select(ComplaintTicket).where(
                    ComplaintTicket.status == "open", ComplaintTicket.kind == "complaint"
                )
            )
            .scalars()
            .all()
        )
        assert {t.category for t in open_complaints} == {"quality", "logistics", "attitude"}
        assert all(t.follow_up_due is not None and t.options_offered for t in open_complaints)
        valid = (
            session.execute(select(Coupon).where(Coupon.used.is_(False), Coupon.valid_until > NOW))
            .scalars()
            .all()
        )
        assert valid
        running = (
            session.execute(
                select(Promotion).where(Promotion.starts_at <= NOW, Promotion.ends_at > NOW)
            )
            .scalars()
            .all()
        )
        assert running
        gift_categories = set(session.execute(select(Gift.category)).scalars())
        assert {"奶粉", "油烟机", "精油"} <= gift_categories
        mothers = (
            session.execute(select(Customer).where(Customer.baby_birth_date.is_not(None)))
            .scalars()
            .all()
        )
        assert len(mothers) >= 10
        assert all(m.formula_daily_grams and isinstance(m.baby_birth_date, date) for m in mothers)
        assert {c.personality_type for c in session.execute(select(Customer)).scalars()} == {
            "dominant",
            "expressive",
            "amiable",
            "analytical",
        }


def test_demo_accounts_have_roles_limits_and_salted_hashes(demo):
    engine, _, _ = demo
    with session_scope(engine) as session:
        agents = {a.username: a for a in session.execute(select(Agent)).scalars()}
        assert {u: a.role for u, a in agents.items()} == {
            "agent": "agent",
            "supervisor": "supervisor",
            "trainer": "trainer",
        }
        assert agents["agent"].compensation_limit_fen == COMPENSATION_LIMIT_FEN["agent"] == 5000
        assert agents["supervisor"].compensation_limit_fen == 50000
        assert all("demo" not in a.password_hash for a in agents.values())
        assert len({a.password_hash.split("$")[4] for a in agents.values()}) == 3
        assert (
            repo.authenticate_agent(session, "supervisor", "supervisor-demo").role == "supervisor"
        )
        assert repo.authenticate_agent(session, "agent", "supervisor-demo") is None


def test_reseeding_does_nothing_and_is_quick(demo):
    _, report, url = demo
    again = seed.run(url, NOW + timedelta(days=3), demo=True, accounts=True)
    assert not again.shop_seeded and again.accounts_created == 0
    assert again.counts == report.counts
    assert again.seconds < 5


def _fingerprint(url):
    engine = make_engine(url)
    with session_scope(engine) as session:
        numbers = session.execute(select(Order.order_number).order_by(Order.id)).scalars().all()
        tracking = (
            session.execute(select(Shipment.tracking_number).order_by(Shipment.id)).scalars().all()
        )
        names = session.execute(select(Customer.name).order_by(Customer.id)).scalars().all()
    engine.dispose()
    return hashlib.sha256("|".join(numbers + tracking + names).encode()).hexdigest()


def test_seed_is_deterministic_for_a_fixed_now(demo, tmp_path):
    _, _, url = demo
    other = sqlite_url(tmp_path / "again.db")
    seed.run(other, NOW, demo=True, accounts=False)
    assert _fingerprint(other) == _fingerprint(url)


def test_seed_is_well_under_a_minute(demo):
    _, report, _ = demo
    assert report.seconds < 30


def test_cli_seeds_the_embedded_database_with_accounts(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHOP_DEMO", raising=False)
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path))
    assert seed.main([]) == 0
    out = capsys.readouterr().out
    assert "seeded" in out and "agents 3" in out
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with session_scope(engine) as session:
        newest = (
            session.execute(select(Order.created_at).order_by(Order.created_at.desc()))
            .scalars()
            .first()
        )
    engine.dispose()
    assert abs(datetime.now(timezone.utc) - newest) < timedelta(days=3)


def test_a_given_database_url_never_gets_demo_accounts(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_DATABASE_URL", sqlite_url(tmp_path / "prod.db"))
    monkeypatch.setenv("SHOP_DEMO", "1")
    report = seed.run(now=NOW)
    assert report.shop_seeded and report.counts["agents"] == 0
    monkeypatch.delenv("SHOP_DEMO")
    report = seed.run()
    assert report.counts["agents"] == 0


def test_process_wide_engine_is_built_on_first_use_from_the_settings(monkeypatch, tmp_path):
    from shop.db import engine as db

    url = sqlite_url(tmp_path / "lazy" / "shop.db")
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    db.reset()
    try:
        assert db._engine is None
        seed.migrate()
        with db.session_scope() as session:
            session.add(Gift(name="湿巾", category="坚果", min_order_fen=0, stock=1, notes=""))
        assert db._engine is not None and str(db.get_engine().url) == url
        with db.session_scope() as session:
            assert session.execute(select(Gift.name)).scalar_one() == "湿巾"
            assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        db.reset()


def test_a_stale_sqlite_demo_shop_is_rebuilt_around_now_and_a_fresh_one_kept(tmp_path):
    url = sqlite_url(tmp_path / "shop.db")
    seed.run(url, NOW, demo=True, accounts=True)
    kept = seed.run(url, NOW + timedelta(hours=6), demo=True, refresh_after=timedelta(days=1))
    assert not kept.refreshed and not kept.shop_seeded
    later = NOW + timedelta(days=9)
    rebuilt = seed.run(url, later, demo=True, accounts=True, refresh_after=timedelta(days=1))
    assert rebuilt.refreshed and rebuilt.shop_seeded and rebuilt.counts["agents"] == 3
    engine = make_engine(url)
    with session_scope(engine) as session:
        newest = session.execute(select(func.max(Order.created_at))).scalar_one()
    engine.dispose()
    assert later - timedelta(days=2) < newest.replace(tzinfo=timezone.utc) <= later
    # a shop that is not a demo is never rebuilt
    other = seed.run(url, later + timedelta(days=30), demo=False, refresh_after=timedelta(days=1))
    assert not other.refreshed
