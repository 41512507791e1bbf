"""The one product matcher against the seeded demo shop (model codes, names, typos, categories)."""

import pytest

from shop.db import make_engine, session_scope
from shop.demo import seed
from shop.repository import catalog
from shop.repository.product_match import match_products, model_codes


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("match") / "shop.db"
    seed.run(f"sqlite:///{path}", seed.DEMO_NOW, demo=True, accounts=False)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


def names(engine, text, whole_message=False):
    with session_scope(engine) as session:
        match = match_products(session, text, whole_message=whole_message)
        return [p.name for p in match.products]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("厨匠顶吸式油烟机T7", "厨匠顶吸式油烟机T7"),
        ("厨匠顶吸式油烟机T5", "厨匠顶吸式油烟机T5"),
        ("T5油烟机", "厨匠顶吸式油烟机T5"),
        ("燃气热水器H20", "厨匠燃气热水器H20"),
        ("燃气热水器H13", "厨匠燃气热水器H13"),
        ("H16", "厨匠燃气热水器H16"),
        ("h16z", "厨匠零冷水燃气热水器H16Z"),
        ("ｔ７", "厨匠顶吸式油烟机T7"),
        ("Ｔ7油烟机", "厨匠顶吸式油烟机T7"),
        ("t7", "厨匠顶吸式油烟机T7"),
        ("T恤", "衣见圆领纯棉T恤"),
        ("ｔ恤", "衣见圆领纯棉T恤"),
        ("圆领T恤", "衣见圆领纯棉T恤"),
        ("廚匠頂吸式油煙機T7", "厨匠顶吸式油烟机T7"),
        ("薰衣草精由", "芳屿薰衣草精油"),
        ("A2奶粉1段", "贝初A2蛋白婴儿配方奶粉1段"),
        ("每日坚果", "松果仓每日坚果"),
    ],
)
def test_a_name_or_model_finds_exactly_that_product(engine, text, expected):
    assert names(engine, text) == [expected]


@pytest.mark.parametrize(
    "message,expected",
    [
        ("厨匠顶吸式油烟机T7现在买送什么", "厨匠顶吸式油烟机T7"),
        ("T5油烟机的风量多大", "厨匠顶吸式油烟机T5"),
        ("燃氣熱水器H20保修幾年", "厨匠燃气热水器H20"),
        ("t恤有赠品吗", "衣见圆领纯棉T恤"),
    ],
)
def test_a_whole_message_finds_the_product_it_names(engine, message, expected):
    assert names(engine, message, whole_message=True) == [expected]


def test_a_category_or_a_shared_word_gives_every_candidate(engine):
    hoods = names(engine, "这款油烟机", whole_message=True)
    assert len(hoods) == 8 and all("油烟机" in n for n in hoods)
    assert names(engine, "顶吸式油烟机") == ["厨匠顶吸式油烟机T5", "厨匠顶吸式油烟机T7"]
    assert names(engine, "衬衫") == ["衣见纯棉白衬衫", "衣见男士商务衬衫"]
    assert len(names(engine, "坚果")) == 6  # the category, not 每日坚果 alone


def test_a_model_the_shop_does_not_have_matches_no_other_model(engine):
    with session_scope(engine) as session:
        missing = match_products(session, "T9油烟机")
        assert missing.products == () and missing.codes == {"t9"}
        assert all(p.category == "油烟机" for p in missing.suggestions)
        assert match_products(session, "燃气灶T7").products == ()
        assert catalog.find_product(session, "T9油烟机") is None


@pytest.mark.parametrize("text", ["手机", "iPhone15", "笔记本电脑", "宇宙飞船"])
def test_products_the_shop_does_not_sell_match_nothing(engine, text):
    assert names(engine, text) == []
    assert names(engine, f"你们卖{text}吗", whole_message=True) == []


def test_serial_numbers_and_tracking_numbers_are_not_model_codes():
    assert model_codes("铭牌序列号 1636666359150521") == frozenset()
    assert model_codes("SF1234567890") == frozenset()
    assert model_codes("我165cm 60kg") == frozenset()
    assert model_codes("ｔ７和H16Z") == {"t7", "h16z"}
