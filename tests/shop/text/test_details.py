"""Order numbers, tails, mobiles, parcels, heights, weights, sizes and addresses told apart."""

import pytest

from shop.text import details
from shop.text.details import kind_of, new_address, read_details, size_label, tracking_attempt

ORDER = "2024112300123"


@pytest.mark.parametrize(
    "text, orders, tails",
    [
        (f"帮我查下订单{ORDER}，尾号1234", (ORDER,), ("1234",)),
        (f"订单{ORDER} 1234", (ORDER,), ("1234",)),  # the one other number beside an order
        (f"訂單{ORDER} 手機末四碼8866", (ORDER,), ("8866",)),
        (
            "单号２０２４１１２３００１２３ 为号6688",
            (ORDER,),
            ("6688",),
        ),  # 单号 before an order number
        ("手机号后四位是0571", (), ("0571",)),
        (f"{ORDER} 2024年买的", (ORDER,), ()),  # a year
        (f"{ORDER} 付了1688元", (ORDER,), ()),  # an amount
        (f"{ORDER} 文三路1234号", (ORDER,), ()),  # a house number
        ("1234", (), ()),  # four bare digits with nothing asked: unknown
        (f"{ORDER} 1234 5678", (ORDER,), ()),  # two candidates: neither
    ],
)
def test_order_numbers_and_tails(text, orders, tails):
    found = read_details(text)
    assert found.order_ids == orders
    assert found.phone_tails == tails


def test_four_bare_digits_are_the_tail_only_while_it_is_asked_for():
    assert read_details("1234", asked="phone_tail").phone_tails == ("1234",)
    assert read_details("1234", asked="order_id").phone_tails == ()


@pytest.mark.parametrize(
    "text", ["寄出了 单号13812345678", "138 1234 5678", "+86 138-1234-5678", "电话13812345678"]
)
def test_a_mobile_number_is_neither_a_tail_nor_a_parcel(text):
    found = read_details(text)
    assert found.mobile_tails == ("5678",)
    assert found.phone_tails == found.tracking_numbers == found.order_ids == ()


def test_a_mobile_labelled_as_a_tail_or_parcel_by_the_nlu_stays_a_mobile():
    for label in ("phone_tail", "tracking_number", "order_id"):
        entity = {"entity": label, "value": "13812345678"}
        found = read_details("单号13812345678", entities=[entity])
        assert found.mobile_tails == ("5678",)
        assert found.phone_tails == found.tracking_numbers == found.order_ids == ()


def test_a_tail_labelled_as_a_parcel_is_no_parcel():
    found = read_details("1234", entities=[{"entity": "tracking_number", "value": "1234"}])
    assert found.tracking_numbers == ()


def test_an_order_number_labelled_as_a_parcel_is_an_order_number():
    found = read_details(ORDER, entities=[{"entity": "tracking_number", "value": ORDER}])
    assert found.order_ids == (ORDER,)
    assert found.tracking_numbers == ()


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("不好意思发错了 是SF1234567890123", ("SF1234567890123",)),
        ("yt1234567890123 这个快递", ("YT1234567890123",)),
        ("RR123456785CN", ("RR123456785CN",)),
        ("单号 773012345678901", ("773012345678901",)),  # STO's digits, after 单号
        ("73012345678901", ("73012345678901",)),  # ZTO's digit format on its own
        ("12345678", ()),  # eight digits with nothing saying it is a parcel
        (f"订单{ORDER}", ()),
        ("防伪码8301274469125530", ()),
    ],
)
def test_tracking_numbers(text, numbers):
    assert read_details(text).tracking_numbers == numbers


def test_digits_are_a_tracking_number_while_one_is_asked_for():
    assert read_details("12345678", asked="return_tracking_number").tracking_numbers == (
        "12345678",
    )
    assert read_details("13812345678", asked="return_tracking_number").tracking_numbers == ()


def test_an_anti_counterfeit_code_is_not_a_parcel():
    found = read_details("8301274469125530")
    assert found.auth_codes == ("8301274469125530",)
    assert found.tracking_numbers == ()


@pytest.mark.parametrize(
    "text, heights, weights",
    [
        ("我身高165 体重110斤 穿什么码", (165,), (55.0,)),
        ("一米七 55kg", (170,), (55.0,)),
        ("1米65 一百二十斤", (165,), (60.0,)),
        ("165 110斤", (165,), (55.0,)),  # a bare height beside a weight
        ("1.75m 70公斤", (175,), (70.0,)),
        ("腰围72cm", (), ()),
        ("买10斤坚果", (), ()),  # goods, not a body
        ("体重45", (), (45.0,)),
        (f"订单{ORDER}", (), ()),
    ],
)
def test_heights_and_weights(text, heights, weights):
    found = read_details(text)
    assert found.heights_cm == heights
    assert found.weights_kg == weights


def test_a_bare_number_is_the_height_or_weight_asked_for():
    assert read_details("168", asked="height").heights_cm == (168,)
    assert read_details("120", asked="weight").weights_kg == (60.0,)
    assert read_details("168").heights_cm == ()


@pytest.mark.parametrize(
    "text, sizes",
    [
        ("换个XL", ("XL",)),
        ("想换2xl的", ("2XL",)),
        ("要m码", ("M",)),
        ("L", ("L",)),
        ("大一号", ("大一码",)),
        ("鞋子38码有吗", ("38",)),
        ("均码吗", ("均码",)),
        ("165cm", ()),
        ("这个好看吗", ()),
    ],
)
def test_sizes(text, sizes):
    assert read_details(text).sizes == sizes


@pytest.mark.parametrize(
    "value, label",
    [
        ("xl", "XL"),
        ("38码", "38"),
        ("大一号", "大一码"),
        ("1234", None),
        (ORDER, None),
        ("黑色", None),
    ],
)
def test_size_label(value, label):
    assert size_label(value) == label


def test_a_size_entity_is_kept_only_when_it_is_a_size_or_a_variant_word():
    assert read_details("看看", entities=[{"entity": "size", "value": "XL"}]).sizes == ("XL",)
    for word in ("液化气", "10ml", "大码"):
        assert read_details("看看", entities=[{"entity": "size", "value": word}]).sizes == (word,)
    for number in ("8866", "13812345678", "2024112300123"):
        assert read_details("看看", entities=[{"entity": "size", "value": number}]).sizes == ()


@pytest.mark.parametrize(
    "value, kind",
    [
        (ORDER, details.ORDER_ID),
        ("13812345678", details.MOBILE),
        ("1234", details.PHONE_TAIL),
        ("SF1234567890123", details.TRACKING_NUMBER),
        ("8301274469125530", details.AUTH_CODE),
        ("12345", None),
        (None, None),
    ],
)
def test_kind_of(value, kind):
    assert kind_of(value) == kind


@pytest.mark.parametrize(
    "reply, address",
    [
        ("改成 江苏省南京市鼓楼区中山路100号", "江苏省南京市鼓楼区中山路100号"),
        ("收货地址改为：杭州市西湖区文三路100号 谢谢", "杭州市西湖区文三路100号"),
        ("帮我换成上海市徐汇区漕溪北路8号吧", "上海市徐汇区漕溪北路8号"),
        ("新地址 都江堰市幸福路1号", "都江堰市幸福路1号"),
        ("江苏省南京市鼓楼区中山路100号", "江苏省南京市鼓楼区中山路100号"),
        ("改成", ""),
    ],
)
def test_new_address_without_the_filler(reply, address):
    assert new_address(reply) == address


@pytest.mark.parametrize(
    "reply, attempt",
    [
        ("还没寄呢", False),
        ("寄了", False),
        ("已经寄出了 明天到", False),
        ("SF1234567890123", True),
        ("13812345678", True),
        ("sf12 3456 789", True),
    ],
)
def test_tracking_attempt(reply, attempt):
    assert tracking_attempt(reply) is attempt
