"""The direct scorer (bot/nlu/linear_scorer.py) gives scikit-learn's probabilities.

Models fitted on the project's own training examples (a sample, so each fits in a second or
two), in each way the regression turns scores into probabilities; texts from the held-out set
and odd ones (runs of white space, capitals, emoji, digits, nothing the vocabulary knows, an
empty string).
"""

import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bot.nlu.linear_scorer import LinearScorer

ROOT = Path(__file__).resolve().parents[2]
ODD = ["", "   ", "HELLO  在吗\t\t亲", "😀😀退货", "0000000000000", "zzqx", "a", "我要  退货  了"]


def examples(path, per_intent):
    found = {}
    for file in sorted(path.glob("*.yml")) if path.is_dir() else [path]:
        for block in yaml.safe_load(file.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                texts = [line[2:].strip() for line in block["examples"].splitlines()]
                found.setdefault(block["intent"], []).extend(t for t in texts if t)
    return [(text, intent) for intent, texts in found.items() for text in texts[:per_intent]]


TRAINING = examples(ROOT / "data" / "nlu", per_intent=25)
HELD_OUT = [text for text, _ in examples(ROOT / "tests" / "nlu" / "heldout.yml", per_intent=6)]


@pytest.mark.parametrize(
    "vectorizer, regression",
    [
        ({"sublinear_tf": True}, {"C": 30.0, "class_weight": "balanced"}),
        ({"ngram_range": (2, 4), "norm": "l1"}, {"multi_class": "ovr"}),
        ({"use_idf": False, "lowercase": False, "norm": None}, {"C": 0.5}),
    ],
)
def test_the_probabilities_of_scikit_learn(vectorizer, regression):
    texts, intents = zip(*TRAINING, strict=True)
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char", **{"ngram_range": (1, 3), **vectorizer}),
        LogisticRegression(max_iter=500, **regression),
    ).fit(texts, intents)
    scorer = LinearScorer.for_pipeline(pipeline)
    asked = HELD_OUT + ODD + random.Random(3).sample(list(texts), 40)
    expected = pipeline.predict_proba(asked)
    got = scorer.predict_proba(asked)
    assert got.shape == expected.shape and len(asked) > 150
    assert np.abs(got - expected).max() < 1e-9
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_two_classes_both_ways():
    texts = ["我要退货", "退掉吧", "申请退款", "你好", "在吗", "哈喽"]
    labels = ["return", "return", "return", "greet", "greet", "greet"]
    for multi_class in ("ovr", "multinomial"):
        pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 2)),
            LogisticRegression(multi_class=multi_class),
        ).fit(texts, labels)
        asked = ["我想退货", "你好呀", "", "x"]
        got = LinearScorer.for_pipeline(pipeline).predict_proba(asked)
        assert np.abs(got - pipeline.predict_proba(asked)).max() < 1e-9


def test_a_model_it_does_not_reproduce_keeps_scikit_learn():
    words = make_pipeline(TfidfVectorizer(analyzer="word"), LogisticRegression())
    accents = make_pipeline(
        TfidfVectorizer(analyzer="char", strip_accents="unicode"), LogisticRegression()
    )
    assert LinearScorer.for_pipeline(words) is None
    assert LinearScorer.for_pipeline(accents) is None
    assert LinearScorer.for_pipeline(None) is None
