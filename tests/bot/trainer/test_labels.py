"""Labelled examples go into the topic files by round-trip YAML editing, and only when sound."""

import threading
from pathlib import Path

import pytest

from bot.settings import ROOT
from bot.trainer import labels, tokens
from bot.trainer.labels import DataFiles, Entity, LabelRefused

TOPIC = """version: "3.1"
# 店铺自己的说法，手写的注释要留着
nlu:
- intent: greet  # 打招呼
  examples: |
    - 在吗
    - 你好
# 问库存
- intent: ask_stock
  examples: |
    - 还有货吗
    - [红色](color)还有吗
- lookup: city
  examples: |
    - 北京
    - 上海
- synonym: crazy
  examples: |
    - 疯癫
- regex: order_id
  examples: |
    - (?<![0-9])20\\d{11}
"""

OTHER = """version: "3.1"
nlu:
- intent: request_return
  examples: |
    - 我要退货
"""

HELDOUT = """version: "3.1"
nlu:
- intent: ask_stock
  examples: |
    - 这款还能买到吗
"""


@pytest.fixture
def data(tmp_path):
    nlu = tmp_path / "data" / "nlu"
    nlu.mkdir(parents=True)
    (nlu / "presale.yml").write_text(TOPIC, encoding="utf-8")
    (nlu / "aftersale.yml").write_text(OTHER, encoding="utf-8")
    heldout = tmp_path / "heldout.yml"
    heldout.write_text(HELDOUT, encoding="utf-8")
    return DataFiles(nlu, heldout)


def test_an_example_is_the_only_line_added_to_its_intents_file(data):
    written = data.add("  红色的 还有货么\n", "ask_stock")
    assert written.file == "presale.yml" and written.line == "红色的 还有货么"
    after = (data.nlu_dir / "presale.yml").read_text(encoding="utf-8")
    expected = TOPIC.replace(
        "    - [红色](color)还有吗\n", "    - [红色](color)还有吗\n    - 红色的 还有货么\n"
    )
    assert after == expected  # comments, the lookup table, the synonym and the regex untouched
    assert (data.nlu_dir / "aftersale.yml").read_text(encoding="utf-8") == OTHER


def test_entities_are_written_in_rasas_markup_on_token_boundaries(data):
    written = data.add("红色还有货吗亲", "ask_stock", [Entity(0, 2, "color")])
    assert written.line == "[红色](color)还有货吗亲"
    assert "    - [红色](color)还有货吗亲\n" in (data.nlu_dir / "presale.yml").read_text("utf-8")


def test_a_span_that_splits_a_token_is_refused_with_the_token(data):
    with pytest.raises(LabelRefused) as refused:
        data.add("红色还有货吗亲", "ask_stock", [Entity(0, 1, "color")])
    assert refused.value.code == "bad_span"
    assert refused.value.detail["token"] == "红色" and refused.value.detail["whole"] == [0, 2]
    assert (data.nlu_dir / "presale.yml").read_text(encoding="utf-8") == TOPIC


def test_duplicates_after_normalisation_and_contradictions_are_refused(data):
    with pytest.raises(LabelRefused) as duplicate:
        data.add("還有貨嗎！", "ask_stock")  # Traditional, full-width punctuation: the same key
    assert duplicate.value.code == "duplicate"
    assert duplicate.value.detail == {
        "intent": "ask_stock",
        "file": "presale.yml",
        "example": "还有货吗",
    }
    with pytest.raises(LabelRefused) as contradiction:
        data.add("红色 还有吗", "request_return")  # an annotated example counts by its text
    assert contradiction.value.code == "contradiction"
    assert contradiction.value.detail["intent"] == "ask_stock"
    with pytest.raises(LabelRefused) as heldout:
        data.add("这款还能买到吗", "ask_stock")
    assert heldout.value.code == "in_heldout"
    assert (data.nlu_dir / "presale.yml").read_text(encoding="utf-8") == TOPIC
    assert (data.nlu_dir / "aftersale.yml").read_text(encoding="utf-8") == OTHER


@pytest.mark.parametrize(
    "text, code",
    [("   ", "empty"), ("x" * 201, "too_long"), ("[红色](color)有吗", "markup")],
)
def test_bad_text_is_refused(data, text, code):
    with pytest.raises(LabelRefused) as refused:
        data.add(text, "ask_stock")
    assert refused.value.code == code


def test_an_intent_no_file_holds_is_refused(data):
    with pytest.raises(LabelRefused) as refused:
        data.add("帮我开发票", "ask_invoice")
    assert refused.value.code == "intent_not_in_data"


def test_a_hand_broken_file_is_reported_and_never_overwritten(data):
    broken = TOPIC.replace("- lookup: city", "- lookup: city\n   bad: [indent")
    (data.nlu_dir / "presale.yml").write_text(broken, encoding="utf-8")
    with pytest.raises(LabelRefused) as refused:
        data.add("请问在不在呀", "greet")
    assert refused.value.code == "broken_file"
    assert refused.value.detail["file"] == "presale.yml" and refused.value.detail["line"]
    assert (data.nlu_dir / "presale.yml").read_text(encoding="utf-8") == broken
    assert (data.nlu_dir / "aftersale.yml").read_text(encoding="utf-8") == OTHER


def test_two_trainers_writing_at_once_keep_every_example(data):
    texts = [f"第{n}件还有没有货呀" for n in "一二三四五六七八九十"]
    errors = []

    def label(text):
        try:
            DataFiles(data.nlu_dir, data.heldout).add(text, "ask_stock")
        except Exception as problem:  # noqa: BLE001 - collected and asserted below
            errors.append(problem)

    threads = [threading.Thread(target=label, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    written = (data.nlu_dir / "presale.yml").read_text(encoding="utf-8")
    assert all(f"    - {t}\n" in written for t in texts)
    assert written.count("\n") == TOPIC.count("\n") + len(texts)


def test_every_real_topic_file_round_trips_byte_for_byte():
    import io

    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + [ROOT / "tests/nlu/heldout.yml"]:
        source = path.read_text(encoding="utf-8")
        out = io.StringIO()
        yaml = labels._yaml()
        yaml.dump(yaml.load(source), out)
        assert out.getvalue() == source, path.name


def test_a_dictionary_word_is_added_once_normalised(tmp_path):
    dictionary = tmp_path / "shop.txt"
    dictionary.write_text("包邮 2000 n", encoding="utf-8")
    assert labels.add_dictionary_word(dictionary, "爆款褲", tmp_path) == "爆款裤"
    assert dictionary.read_text(encoding="utf-8") == "包邮 2000 n\n爆款裤 1000\n"
    for word, code in (("爆款裤", "word_known"), ("包邮", "word_known"), ("a b", "bad_word")):
        with pytest.raises(LabelRefused) as refused:
            labels.add_dictionary_word(dictionary, word, tmp_path)
        assert refused.value.code == code
    assert [t.text for t in tokens.tokenize("这条爆款裤")][-1] == "爆款裤"


def test_files_are_replaced_whole_keeping_their_permissions(data):
    path = data.nlu_dir / "presale.yml"
    path.chmod(0o640)
    data.add("老板在线吗", "greet")
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [p for p in Path(data.nlu_dir).iterdir() if p.name.startswith(".presale")]
