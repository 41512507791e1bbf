"""Staff sign-in names read in one form: look-alikes of a name are that name."""

import pytest

from shop.text.inputs import MAX_STAFF_NAME, staff_username


@pytest.mark.parametrize(
    "typed",
    [
        "agent",
        "ａｇｅｎｔ",  # full-width letters
        "AGENT",
        "Ａｇｅｎｔ",
        " agent  ",
        "a\u200bgent",  # zero-width space
        "ag\u200dent\u2060",  # zero-width joiner, word joiner
        "\ufeffagent\u00ad",  # byte order mark, soft hyphen
        "ａ\u200cＧＥＮＴ\u3000",  # zero-width non-joiner, ideographic space
    ],
)
def test_look_alikes_of_a_name_are_the_same_name(typed):
    assert staff_username(typed) == "agent"


def test_different_names_stay_different_and_odd_values_are_safe():
    assert staff_username("supervisor") != staff_username("agent")
    assert staff_username("ag ent") == "ag ent"  # a visible space is part of the name
    assert staff_username(None) == ""
    assert staff_username(12) == "12"
    assert staff_username("ß" * 40) == "ss" * (MAX_STAFF_NAME // 2)  # folded, then cut
    assert len(staff_username("x" * 500)) == MAX_STAFF_NAME
