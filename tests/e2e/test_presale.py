"""Pre-sale, service and membership conversations through the real servers.

Every fact in a reply is compared with the row in the seeded shop database the servers use.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from shop.db.models import (
    AntiCounterfeitCode,
    Customer,
    InstallationAppointment,
    InstallationProvider,
    Order,
    OrderItem,
    Product,
    Sku,
)
from shop.money import yuan
from shop.policy.quiet_hours import waking_deadline
from shop.repository.catalog import find_product
from shop.signing import sign_chat
from tests.e2e.conftest import cards, texts

pytestmark = pytest.mark.e2e
SHOP_TZ = ZoneInfo("Asia/Shanghai")


def clean(text):
    assert "None" not in text and "{" not in text, text
    return text


def shown(moment):
    return moment.astimezone(SHOP_TZ).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def shop_db(assistant):
    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    yield engine
    engine.dispose()


def say_signed(assistant, sender, text, customer_id):
    key = assistant.settings.signing_key
    metadata = {"customer_id": customer_id, "customer_sig": sign_chat(customer_id, sender, key)}
    return assistant._post(
        "/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata}
    )


def test_a_real_code_is_genuine_once_then_reported_as_checked(assistant, sender, shop_db):
    with Session(shop_db) as session:
        code, name = session.execute(
            select(AntiCounterfeitCode.code, Product.name)
            .join(Product)
            .where(AntiCounterfeitCode.used.is_(False))
            .order_by(AntiCounterfeitCode.id.desc())
        ).first()
    [first] = texts(assistant.say(sender, f"防伪码{code} 帮我查下是不是正品"))
    assert code in clean(first) and name in first and "第一次" in first
    with Session(shop_db) as session:
        row = session.execute(
            select(AntiCounterfeitCode).where(AntiCounterfeitCode.code == code)
        ).scalar_one()
        assert row.used and row.check_count == 1
        first_check = shown(row.used_at)
    [second] = texts(assistant.say(sender, code))
    assert "1次" in clean(second) and first_check in second


def test_an_unknown_code_is_warned_about_and_a_human_offered(assistant, sender):
    replies = assistant.say(sender, "防伪码0000111122223333 查不到 是不是假的")
    [text] = texts(replies)
    assert "0000111122223333" in clean(text) and "没有查到" in text
    assert "/request_human" in [b["payload"] for b in replies[0]["buttons"]]


def test_discounts_name_only_the_real_price_and_running_promotions(assistant, sender, shop_db):
    replies = assistant.say(sender, "碧根果能便宜点吗")
    [reply] = texts(replies)
    product_slot = assistant.tracker(sender)["slots"]["product"]
    with Session(shop_db) as session:
        product = find_product(session, product_slot)
        assert product is not None, product_slot
        price = yuan(product.price_fen)
    assert f"{product.name}现价{price}元" in clean(reply)
    assert "坚果满199减30" in reply
    assert cards(replies) == [
        {
            "card": "product",
            "product_id": product.id,
            "name": product.name,
            "price_fen": product.price_fen,
            "url": f"/products/{product.id}",
        }
    ]


def test_signed_in_member_hears_their_own_level_and_points(assistant, sender, shop_db):
    with Session(shop_db) as session:
        customer = (
            session.execute(select(Customer).where(Customer.points > 1000).order_by(Customer.id))
            .scalars()
            .first()
        )
        points = customer.points
    [reply] = texts(say_signed(assistant, sender, "我现在积分有多少", customer.id))
    assert f"积分{points}分" in clean(reply)
    assert f"可抵{yuan(points // 100 * 100)}元" in reply
    [anonymous] = texts(assistant.say(sender + "-anon", "我现在积分有多少"))
    assert f"积分{points}分" not in anonymous and "登录" in anonymous


def chosen(assistant, sender, replies, name_part):
    """Picks the candidate button whose title contains `name_part`, as the customer would."""
    buttons = [b for r in replies for b in r.get("buttons") or []]
    assert len(buttons) >= 2, replies
    [button] = [b for b in buttons if name_part in b["title"]]
    return assistant.say(sender, button["payload"])


def test_installation_knowledge_comes_from_the_specs(assistant, sender, shop_db):
    vague = assistant.say(sender, "顶吸式油烟机装的时候吊顶要开多大的孔")
    assert not cards(vague)  # two models fit: the customer chooses, nothing is guessed
    replies = chosen(assistant, sender, vague, "T7")
    [reply] = texts(replies)
    [card] = cards(replies)
    with Session(shop_db) as session:
        product = session.get(Product, card["product_id"])
    assert product.name.startswith("厨匠顶吸式油烟机") and product.name.endswith("T7")
    assert product.name in clean(reply)
    assert f"{product.mounting_height_min_mm}-{product.mounting_height_max_mm}mm" in reply
    assert f"{product.ceiling_cutout_width_mm}×{product.ceiling_cutout_depth_mm}mm" in reply
    assert f"排烟管直径{product.flue_diameter_mm}mm" in reply


def test_warranty_and_service_point_of_the_city(assistant, sender, shop_db):
    vague = assistant.say(sender, "热水器保修几年 我在宁波 附近有网点吗")
    assert not cards(vague)
    buttons = [b for r in vague for b in r.get("buttons") or []]
    replies = assistant.say(sender, buttons[0]["payload"])
    [reply] = texts(replies)
    [card] = cards(replies)
    with Session(shop_db) as session:
        product = session.get(Product, card["product_id"])
        providers = session.execute(
            select(InstallationProvider)
            .where(InstallationProvider.city == "宁波")
            .order_by(
                InstallationProvider.rating.desc(),
                InstallationProvider.contact_within_hours,
                InstallationProvider.id,
            )
        ).scalars()
        provider = next(p for p in providers if product.category in p.categories)
    assert product.name in buttons[0]["title"]
    assert f"保修{product.warranty_years}年" in clean(reply)
    assert provider.name in reply and provider.service_point in reply


def appliance_order(shop_db):
    with Session(shop_db) as session:
        booked = select(InstallationAppointment.order_id)
        order, tail = session.execute(
            select(Order, Customer.phone_tail)
            .join(Customer, Customer.id == Order.customer_id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Sku, Sku.id == OrderItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.needs_installation.is_(True), Order.state == "delivered")
            .where(Order.id.not_in(booked))
            .order_by(Order.order_number.desc())
        ).first()
        return order.order_number, tail, order.shipping_city


def test_booking_a_visit_records_it_and_tells_the_call_deadline(
    assistant, sender, responses, shop_db
):
    order_id, tail, city = appliance_order(shop_db)
    assert texts(assistant.say(sender, "帮我约一下安装")) == responses["utter_ask_order_id"]
    assert texts(assistant.say(sender, order_id)) == responses["utter_ask_phone_tail"]
    assert texts(assistant.say(sender, tail)) == responses["utter_ask_date"]
    [asked_slot] = texts(assistant.say(sender, "后天"))
    assert asked_slot == responses["utter_ask_install_slot"][0]
    [booked] = texts(assistant.say(sender, "下午"))
    with Session(shop_db) as session:
        visit = session.execute(
            select(InstallationAppointment).join(Order).where(Order.order_number == order_id)
        ).scalar_one()
        provider = session.get(InstallationProvider, visit.provider_id)
        deadline = shown(visit.contact_deadline)
    day_after_tomorrow = (datetime.now(SHOP_TZ) + timedelta(days=2)).date()
    assert (visit.date, visit.slot, visit.city) == (day_after_tomorrow, "afternoon", city)
    # the provider's hours count in the daytime only: no call is promised for the night
    assert visit.contact_deadline == waking_deadline(
        visit.created_at, provider.contact_within_hours, SHOP_TZ
    )
    assert order_id in clean(booked) and provider.name in booked and deadline in booked
    assert f"{day_after_tomorrow.isoformat()} 下午" in booked
    [chase] = texts(assistant.say(sender, "师傅什么时候来 帮我催一下安装"))
    assert deadline in clean(chase) and provider.name in chase
    with Session(shop_db) as session:
        visits = session.execute(
            select(InstallationAppointment.id).join(Order).where(Order.order_number == order_id)
        ).all()
    assert len(visits) == 1


def test_signed_in_customer_books_in_one_message(assistant, sender, shop_db):
    with Session(shop_db) as session:
        installable = (
            select(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Sku, Sku.id == OrderItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(
                Product.needs_installation.is_(True),
                Order.state.in_(("paid", "shipped", "delivered", "completed")),
            )
            .order_by(Order.created_at.desc(), Order.id.desc())
        )
        booked = set(session.execute(select(InstallationAppointment.order_id)).scalars())
        latest = {}
        for order in session.execute(installable).scalars():
            latest.setdefault(order.customer_id, order)
        order = next(o for o in latest.values() if o.id not in booked)
        customer_id, order_id = order.customer_id, order.order_number
    [reply] = texts(say_signed(assistant, sender, "帮我约个安装 后天上午", customer_id))
    with Session(shop_db) as session:
        visit = session.execute(
            select(InstallationAppointment).where(InstallationAppointment.order_id == order.id)
        ).scalar_one()
        assert visit.customer_id == customer_id and visit.slot == "morning"
        deadline = shown(visit.contact_deadline)
    assert order_id in clean(reply) and deadline in reply and "上午" in reply
