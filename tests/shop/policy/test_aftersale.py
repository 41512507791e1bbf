"""Pure after-sale policy helpers: windows, labels, changes, masking."""

from datetime import datetime, timedelta, timezone

import pytest

from shop.policy import aftersale as policy

T0 = datetime(2024, 11, 20, 10, 0, tzinfo=timezone.utc)


def test_return_windows_start_at_delivery():
    assert policy.return_deadline(None, False) is None
    assert policy.return_deadline(T0, False) == T0 + timedelta(days=7)
    assert policy.return_deadline(T0, True) == T0 + timedelta(days=15)


def test_return_conditions_by_category():
    assert policy.return_condition("油烟机") == "商品未安装、包装完好"
    assert policy.return_condition("奶粉").startswith("商品未拆封")
    assert policy.return_condition("未知") == "商品不影响二次销售"


def test_what_the_customer_wants_to_change():
    assert policy.classify_change("不想要了帮我取消") == "cancel"
    assert policy.classify_change("地址写错了") == "address"
    assert policy.classify_change("颜色拍错了想换成黑色") == "spec"
    assert policy.classify_change("改一下") is None


@pytest.mark.parametrize(
    "text, change",
    [
        ("先别取消订单，我想改地址", "address"),
        ("先别取消，我想改地址", "address"),
        ("我不想取消了", None),
        ("不取消了", None),
        ("不用取消了，改成黑色", "spec"),
        ("别给我退单", None),
        ("帮我取消订单", "cancel"),
        ("不想要了帮我取消", "cancel"),
        ("不要了", "cancel"),
        ("要不取消吧", "cancel"),
        ("还没发货能取消吗", "cancel"),
    ],
)
def test_a_negated_cancel_is_no_cancellation(text, change):
    assert policy.classify_change(text) == change
    assert policy.cancel_negated(text) is (change != "cancel")


def test_addresses_are_stored_without_house_numbers():
    assert policy.mask_address("杭州市西湖区文三路 388 号 5 幢") == "杭州市西湖区文三路 ** 号 ** 幢"


def test_a_serious_complaint_is_never_offered_a_coupon():
    for category in ("quality", "logistics", "attitude"):
        serious = dict(policy.complaint_options(category, "high"))
        assert "supervisor_call" in serious and len(serious) == 3
        assert not any("券" in title or "补偿" in title for title in serious.values())
        assert dict(policy.complaint_options(category, "medium")) != serious
    category, severity = policy.classify_complaint("燃气灶漏气 差点起火")
    assert severity == "high"
    assert [code for code, _ in policy.complaint_options(category, severity)] == [
        "supervisor_call",
        "refund_return",
        "inspect_first",
    ]
