"""Authenticity: certificate facts and real anti-counterfeit code checks (fresh SQLite per test)."""

from sqlalchemy import select

from actions.presale.authenticity import ActionCheckAuthenticity, find_code
from shop import clock
from shop.db import session_scope
from shop.db.models import AntiCounterfeitCode, Product
from shop.demo.seed import DEMO_NOW
from tests.actions.presale_support import at_demo_time, only_message, run_action, tracker


def a_code(engine, used: bool, category: str = None):
    with session_scope(engine) as session:
        stmt = (
            select(AntiCounterfeitCode, Product)
            .join(Product)
            .where(AntiCounterfeitCode.used.is_(used))
            .order_by(AntiCounterfeitCode.id)
        )
        if category:
            stmt = stmt.where(Product.category == category)
        code, product = session.execute(stmt).first()
        return code, product


def code_row(engine, code):
    with session_scope(engine) as session:
        return session.execute(
            select(AntiCounterfeitCode).where(AntiCounterfeitCode.code == code)
        ).scalar_one()


def test_find_code_reads_grouped_and_full_width_digits_but_not_order_numbers():
    assert find_code("防伪码 1234 5678-1234 5678") == "1234567812345678"
    assert find_code("１２３４５６７８１２３４５６７８") == "1234567812345678"
    assert find_code("订单2024112300123") is None
    assert find_code("尾号6688") is None
    assert find_code(None) is None


def test_first_check_of_a_real_code_is_genuine_and_recorded(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    code, product = a_code(shop, used=False)
    events = run_action(
        ActionCheckAuthenticity(), dispatcher, tracker(slots={"auth_code": code.code})
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_genuine"
    assert facts["product"] == product.name and facts["auth_code"] == code.code
    assert facts["checked_at"] == clock.moment_text(DEMO_NOW)
    assert facts["card"]["product_id"] == product.id
    assert events == [{"event": "slot", "timestamp": None, "name": "auth_code", "value": None}]
    row = code_row(shop, code.code)
    assert row.used and row.check_count == 1 and row.used_at == DEMO_NOW


def test_second_check_warns_with_count_and_first_time(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    code, _ = a_code(shop, used=False)
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(f"防伪码{code.code}"))
    dispatcher.messages.clear()
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(f"再查一次 {code.code}"))
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_already_checked"
    assert facts["times_checked"] == 1
    assert facts["first_checked_at"] == clock.moment_text(DEMO_NOW)
    assert code_row(shop, code.code).check_count == 2


def test_seeded_checked_code_reports_the_recorded_checks(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    code, product = a_code(shop, used=True)
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(slots={"auth_code": code.code}))
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_already_checked"
    assert facts["product"] == product.name
    assert facts["times_checked"] == code.check_count >= 1
    assert facts["first_checked_at"] == clock.moment_text(code.used_at)
    assert facts["last_checked_at"] == clock.moment_text(code.last_checked_at)


def test_unknown_code_is_not_recorded_and_gets_a_warning(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(
        ActionCheckAuthenticity(), dispatcher, tracker(slots={"auth_code": "0000000000000001"})
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_unknown"
    assert facts["auth_code"] == "0000000000000001"
    with session_scope(shop) as session:
        assert (
            session.execute(
                select(AntiCounterfeitCode).where(AntiCounterfeitCode.code == "0000000000000001")
            ).first()
            is None
        )


def test_code_of_another_category_is_flagged(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    code, product = a_code(shop, used=False, category="精油")
    run_action(
        ActionCheckAuthenticity(),
        dispatcher,
        tracker(slots={"auth_code": code.code, "product": "奶粉"}),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_other_product"
    assert facts["code_product"] == product.name


def product_code(engine, product_name: str, used: bool = False):
    with session_scope(engine) as session:
        return session.execute(
            select(AntiCounterfeitCode.code)
            .join(Product)
            .where(Product.name == product_name, AntiCounterfeitCode.used.is_(used))
            .order_by(AntiCounterfeitCode.id)
        ).scalar()


def test_every_kitchen_appliance_has_nameplate_serials(shop):
    with session_scope(shop) as session:
        kitchen = (
            session.execute(select(Product).where(Product.department == "kitchen")).scalars().all()
        )
        assert {p.category for p in kitchen} == {"油烟机", "燃气灶", "热水器"}
        for product in kitchen:
            assert product.anti_counterfeit_scheme == "机身铭牌序列号可查"
            codes = (
                session.execute(
                    select(AntiCounterfeitCode.code).where(
                        AntiCounterfeitCode.product_id == product.id
                    )
                )
                .scalars()
                .all()
            )
            assert len(codes) == 12 and all(find_code(code) == code for code in codes), product.name


def test_genuine_range_hood_serial_is_found(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    serial = product_code(shop, "厨匠顶吸式油烟机T5")
    run_action(
        ActionCheckAuthenticity(),
        dispatcher,
        tracker(f"铭牌序列号 {serial} 是正品吗", slots={"product": "油烟机"}),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_genuine"
    assert facts["product"] == "厨匠顶吸式油烟机T5"
    assert code_row(shop, serial).used


def test_a_vague_name_accepts_a_code_of_any_product_it_stands_for(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    serial = product_code(shop, "厨匠燃气热水器H16")
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(serial, slots={"product": "热水器"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_genuine" and facts["product"] == "厨匠燃气热水器H16"


def test_code_of_another_product_of_the_same_category_is_flagged_and_not_recorded(
    shop, dispatcher, monkeypatch
):
    at_demo_time(monkeypatch)
    serial = product_code(shop, "厨匠侧吸式油烟机J1")
    run_action(
        ActionCheckAuthenticity(),
        dispatcher,
        tracker(f"T5的序列号{serial}", slots={"product": "油烟机"}),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_other_product"
    assert facts["product"] == "厨匠顶吸式油烟机T5"
    assert facts["code_product"] == "厨匠侧吸式油烟机J1"
    row = code_row(shop, serial)
    assert not row.used and row.check_count == 0


def test_code_of_another_named_product_is_flagged(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    code = product_code(shop, "芳屿薰衣草精油")
    assert code is not None
    run_action(
        ActionCheckAuthenticity(),
        dispatcher,
        tracker(slots={"auth_code": code, "product": "芳屿玫瑰精油"}),
    )
    response, facts = only_message(dispatcher)
    assert response == "utter_auth_code_other_product"
    assert facts["product"] == "芳屿玫瑰精油"
    assert not code_row(shop, code).used


def test_product_question_names_its_certificate_and_scheme(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(slots={"product": "玫瑰精油"}))
    response, facts = only_message(dispatcher)
    with session_scope(shop) as session:
        product = session.execute(
            select(Product).where(Product.name == "芳屿玫瑰精油")
        ).scalar_one()
    assert response == "utter_authenticity_product"
    assert facts["certificate"] == product.authorisation_cert_no
    assert facts["scheme"] == product.anti_counterfeit_scheme
    assert facts["card"] == {
        "card": "product",
        "product_id": product.id,
        "name": product.name,
        "price_fen": product.price_fen,
        "url": f"/products/{product.id}",
    }


def test_product_without_codes_gets_its_certificate_only(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckAuthenticity(), dispatcher, tracker(slots={"product": "碧根果"}))
    response, facts = only_message(dispatcher)
    assert response == "utter_authenticity_product_no_code"
    assert "SGC-AUTH" in facts["certificate"]


def test_without_product_or_code_the_general_answer(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    run_action(ActionCheckAuthenticity(), dispatcher, tracker("是正品吗", "ask_authenticity"))
    assert only_message(dispatcher)[0] == "utter_authenticity"


def test_hostile_codes_check_nothing_and_change_nothing(shop, dispatcher, monkeypatch):
    at_demo_time(monkeypatch)
    with session_scope(shop) as session:
        before = session.execute(select(AntiCounterfeitCode.check_count)).scalars().all()
    for value in ("' OR '1'='1", "1; DROP TABLE anti_counterfeit_codes", "9" * 40, "😀" * 16, "-1"):
        dispatcher.messages.clear()
        run_action(
            ActionCheckAuthenticity(), dispatcher, tracker(value, slots={"auth_code": value})
        )
        assert only_message(dispatcher)[0] == "utter_authenticity"
    with session_scope(shop) as session:
        assert session.execute(select(AntiCounterfeitCode.check_count)).scalars().all() == before


def test_database_failure_gets_an_apology_and_a_human(shop, dispatcher, monkeypatch, tmp_path):
    at_demo_time(monkeypatch)
    empty = tmp_path / "empty.db"  # a database without the shop's tables
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{empty}")
    from shop import db

    db.reset()
    events = run_action(
        ActionCheckAuthenticity(), dispatcher, tracker(slots={"auth_code": "1234567812345678"})
    )
    assert dispatcher.messages[-1]["response"] == "utter_shop_unavailable"
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "handoff_reason",
        "value": "system_error",
    } in events
