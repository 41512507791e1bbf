"""The training data and the held-out set are fit for training and for measuring."""

import re
from pathlib import Path

import pytest
import yaml

from bot.nlu import data_check
from shop.text.normalise import to_simplified

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "request_human",
    "choose_persona",
    "chitchat",
    "ask_authenticity",
    "ask_discount",
    "ask_gift",
    "ask_free_shipping",
    "ask_stock",
    "ask_product_info",
    "ask_size_advice",
    "ask_installation",
    "book_installation",
    "ask_delivery_time",
    "track_logistics",
    "check_order_status",
    "modify_order",
    "ask_invoice",
    "report_size_mismatch",
    "report_quality_issue",
    "request_return",
    "request_exchange",
    "ask_refund_status",
    "price_protection",
    "complain",
    "ask_warranty",
    "ask_membership",
    "inform",
]
# intents customers confuse with one another: each needs many ways of saying it
CONFUSABLE = [
    "bot_challenge",
    "request_human",
    "ask_installation",
    "book_installation",
    "chitchat",
    "request_return",
    "request_exchange",
    "ask_refund_status",
    "ask_delivery_time",
    "track_logistics",
    "check_order_status",
    "ask_size_advice",
    "report_size_mismatch",
    "complain",
    "report_quality_issue",
]
DICT_LINE = re.compile(r"^\S+( \d+)?( [a-z]+)?$")


@pytest.fixture(scope="module")
def training():
    return data_check.check([str(ROOT / "data" / "nlu")])


@pytest.fixture(scope="module")
def heldout():
    return data_check.check([str(ROOT / "tests" / "nlu" / "heldout.yml")])


def test_dicts_folder_holds_only_jieba_dictionaries():
    files = list((ROOT / "data" / "dicts").iterdir())
    assert files
    for path in files:
        assert path.suffix == ".txt", f"{path.name} is not a dictionary file"
        lines = path.read_text(encoding="utf-8").splitlines()
        bad = [line for line in lines if line and not DICT_LINE.match(line)]
        assert not bad, f"{path.name}: not 'word [freq] [tag]': {bad[:3]}"


def test_domain_intents_are_the_contract_intents_plus_external_events():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    typed = [intent for intent in domain["intents"] if not intent.startswith("EXTERNAL_")]
    assert sorted(typed) == sorted(CONTRACT_INTENTS)


def test_every_intent_has_enough_examples(training):
    for intent in CONTRACT_INTENTS:
        assert training.counts.get(intent, 0) >= 75, intent
    for intent in CONFUSABLE:
        assert training.counts[intent] >= 80, intent


def test_training_data_loads_without_format_warnings(training):
    assert training.format_warnings == []


def test_entity_annotations_fall_on_token_boundaries(training, heldout):
    assert training.misaligned == []
    assert heldout.misaligned == []


def test_no_duplicates_after_normalisation(training, heldout):
    assert training.duplicates == []
    assert heldout.duplicates == []


def test_about_a_fifth_is_traditional(training):
    assert 0.15 <= training.traditional_share <= 0.35


def test_heldout_set_covers_every_intent(heldout):
    for intent in CONTRACT_INTENTS:
        assert heldout.counts.get(intent, 0) >= 12, intent


def test_heldout_set_does_not_overlap_training_data():
    train = {
        data_check.dedup_key(m.get("text"))
        for m in data_check.load_examples([str(ROOT / "data" / "nlu")])
    }
    test = data_check.load_examples([str(ROOT / "tests" / "nlu" / "heldout.yml")])
    overlap = [m.get("text") for m in test if data_check.dedup_key(m.get("text")) in train]
    assert overlap == []


def test_dedup_key_ignores_script_width_case_and_punctuation():
    assert data_check.dedup_key("還有貨嗎？？") == data_check.dedup_key("还有货吗")
    assert data_check.dedup_key("ＸＬ有嗎") == data_check.dedup_key("xl 有吗!")
    assert to_simplified("貨") == "货"
