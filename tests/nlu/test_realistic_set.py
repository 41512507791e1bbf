"""The realistic held-out set measures what the training data does not already say.

tests/nlu/realistic.yml is written the way real customers write (a greeting and the
request in one line, stories before the question, platform words, products the shop
does not sell, dialect, Traditional characters). It is only worth measuring on while
none of its messages is in the training data or the first held-out set, not even as
a near copy with a word or two swapped.
"""

import difflib
from pathlib import Path
from typing import Dict, List

import pytest

from bot.nlu import data_check
from tests.nlu.test_training_data import CONTRACT_INTENTS

ROOT = Path(__file__).resolve().parents[2]
REALISTIC = ROOT / "tests" / "nlu" / "realistic.yml"
MIN_PER_INTENT = 20
# Two dedup keys this similar (difflib's ratio) are one message with a word or two
# swapped, e.g. 我想换货不要退款 / 我想换货不想退款 (0.88); sentences that only share a
# stock phrase such as 什么时候 stay well below it. Keys shorter than NEAR_COPY_MIN_LENGTH
# (不要啦, 嗯呐好) are the few ways of saying yes or no and only have to differ.
NEAR_COPY = 0.8
NEAR_COPY_MIN_LENGTH = 6


def near_copies(key: str, others: List[str]) -> List[str]:
    """The keys among ``others`` that are ``key`` give or take a word."""
    if len(key) < NEAR_COPY_MIN_LENGTH:
        return []
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(key)
    found = []
    for other in others:
        matcher.set_seq1(other)
        if (
            matcher.real_quick_ratio() >= NEAR_COPY
            and matcher.quick_ratio() >= NEAR_COPY
            and matcher.ratio() >= NEAR_COPY
        ):
            found.append(other)
    return found


def keys(paths: List[Path]) -> Dict[str, str]:
    """Dedup key -> original text of every intent example under the paths."""
    return {
        data_check.dedup_key(m.get("text")): m.get("text")
        for m in data_check.load_examples([str(p) for p in paths])
    }


@pytest.fixture(scope="module")
def realistic() -> data_check.Report:
    return data_check.check([str(REALISTIC)])


@pytest.fixture(scope="module")
def realistic_keys() -> Dict[str, str]:
    return keys([REALISTIC])


@pytest.fixture(scope="module")
def seen_keys() -> Dict[str, str]:
    return keys([ROOT / "data" / "nlu", ROOT / "tests" / "nlu" / "heldout.yml"])


def test_every_contract_intent_has_enough_realistic_messages(realistic):
    short = {i: realistic.counts.get(i, 0) for i in CONTRACT_INTENTS}
    short = {i: n for i, n in short.items() if n < MIN_PER_INTENT}
    assert short == {}
    assert set(realistic.counts) == set(CONTRACT_INTENTS)


def test_realistic_set_loads_cleanly(realistic):
    assert realistic.format_warnings == []
    assert realistic.misaligned == []
    assert realistic.duplicates == []


def test_realistic_set_shares_no_message_with_training_or_heldout(realistic_keys, seen_keys):
    shared = sorted(text for key, text in realistic_keys.items() if key in seen_keys)
    assert shared == []


def test_realistic_set_has_no_near_copy_of_training_or_heldout(realistic_keys, seen_keys):
    others = list(seen_keys)
    copies = [
        f"{text!r} ~ {seen_keys[other]!r}"
        for key, text in realistic_keys.items()
        for other in near_copies(key, others)
    ]
    assert copies == []


def test_near_copy_check_catches_a_swapped_word_but_not_a_shared_phrase():
    def key(text: str) -> str:
        return data_check.dedup_key(text)

    assert near_copies(key("我想换货 不要退款"), [key("我想换货 不想退款")])
    assert near_copies(key("退款怎麼還沒到帳"), [key("退款怎么还没到账啊")])
    assert not near_copies(key("什么时候发货 急用"), [key("什么时候退款 急用")])
    assert not near_copies(key("东西跟图片不一样 我要退货"), [key("我要退货")])
    assert not near_copies(key("不要啦"), [key("不要")])
