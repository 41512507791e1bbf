import pytest

from shop.money import price_tag, yuan


@pytest.mark.parametrize(
    "fen, text",
    [
        (5900, "59"),
        (5950, "59.50"),
        (5, "0.05"),
        (0, "0"),
        (-320, "-3.20"),
        (-300, "-3"),
        (317700, "3177"),
        (8905, "89.05"),
    ],
)
def test_yuan_from_fen(fen, text):
    assert yuan(fen) == text


def test_price_tag_has_the_yuan_sign():
    assert price_tag(12345) == "¥123.45" and price_tag(16900) == "¥169"
