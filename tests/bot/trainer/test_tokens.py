"""Entity spans snap to the jieba tokens the NLU pipeline sees, or are refused with a reason."""

import pytest

from bot.settings import ROOT
from bot.trainer import tokens


@pytest.fixture(scope="module", autouse=True)
def dictionaries():
    tokens.load_user_dictionaries(ROOT / "data" / "dicts")


def test_tokens_carry_the_customers_own_characters_and_offsets():
    found = tokens.tokenize("這件ＸＬ還有貨嗎")
    assert "".join(t.text for t in found) == "這件ＸＬ還有貨嗎"
    assert all(found[i].end == found[i + 1].start for i in range(len(found) - 1))


def test_blank_edges_are_trimmed_and_whole_tokens_pass():
    text = "我要 退货 谢谢"
    start = text.index("退货")
    assert tokens.snap(text, start - 1, start + 3) == (start, start + 2)


def test_a_span_inside_a_token_is_refused_naming_the_token_and_the_whole_span():
    text = "我要退货"
    with pytest.raises(tokens.SpanRefused) as refused:
        tokens.snap(text, 2, 3)
    assert refused.value.code == "split_token"
    assert refused.value.token == "退货" and refused.value.whole == (2, 4)


@pytest.mark.parametrize(
    "start, end, code", [(0, 0, "out_of_range"), (3, 9, "out_of_range"), (2, 3, "empty")]
)
def test_empty_and_outside_spans_are_refused(start, end, code):
    with pytest.raises(tokens.SpanRefused) as refused:
        tokens.snap("我要 退", start, end)
    assert refused.value.code == code


def test_the_workbench_tokens_are_the_pipelines_tokens_on_the_training_data():
    from bot.nlu.data_check import load_examples
    from bot.nlu.normaliser import ChineseTextNormalizer
    from bot.nlu.tokenizer import ShopJiebaTokenizer

    examples = load_examples([str(ROOT / "data" / "nlu")])
    assert len(examples) > 1000
    ChineseTextNormalizer.create({}, None, None, None).process(examples)
    tokenizer = ShopJiebaTokenizer.create(
        {
            **ShopJiebaTokenizer.get_default_config(),
            "dictionary_path": str(ROOT / "data" / "dicts"),
        },
        None,
        None,
        None,
    )
    for message in examples:
        expected = [(t.start, t.end) for t in tokenizer.tokenize(message, "text")]
        found = tokens.tokenize(message.get("original_text") or message.get("text"))
        assert [(t.start, t.end) for t in found] == expected, message.get("text")
