"""Stores a character TF-IDF logistic regression as plain arrays and settings, without pickle.

The fitted pipeline (`TfidfVectorizer` then `LogisticRegression`) is written as one numpy
archive, read with ``allow_pickle=False``: the vocabulary's n-grams in index order, the idf
weights, the coefficients, the intercepts and the class names; and a small JSON file with the
settings that shape the n-grams and the probabilities. Loading rebuilds both estimators from
these, so they compute exactly what the fitted ones computed, in tens of milliseconds (a skops
file of the same model took seconds to check and load). Nothing in the files can run code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

ARRAYS = "intent_blend.npz"
SETTINGS = "intent_blend.json"
FORMAT = 1
# what shapes the n-grams and their weights; the rest of the vectorizer's settings only matter
# while fitting (document frequency cut-offs) and keep their defaults
VECTORIZER_SETTINGS = (
    "analyzer",
    "ngram_range",
    "lowercase",
    "strip_accents",
    "sublinear_tf",
    "norm",
    "use_idf",
    "smooth_idf",
)
# multi_class and solver choose between softmax and one-vs-rest probabilities
REGRESSION_SETTINGS = ("C", "class_weight", "multi_class", "solver", "max_iter")


def is_stored(directory: Path) -> bool:
    """Whether the directory holds a model written by `save`."""
    return (directory / ARRAYS).is_file() and (directory / SETTINGS).is_file()


def _settings(estimator: Any, names: tuple) -> Dict[str, Any]:
    params = estimator.get_params()
    found = {name: params[name] for name in names}
    for name, value in found.items():
        if isinstance(value, tuple):
            found[name] = list(value)
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"{type(estimator).__name__}.{name} cannot be stored: {value!r}")
    return found


def save(model: Pipeline, directory: Path) -> None:
    """Writes a fitted vectorizer-and-regression pipeline into the directory.

    Args:
        model: the fitted pipeline of a `TfidfVectorizer` and a `LogisticRegression`.
        directory: an existing directory; `ARRAYS` and `SETTINGS` are written into it.

    Raises:
        ValueError: when a setting is not plain data (a callable analyzer) or an n-gram would
            not survive the archive.
    """
    vectorizer, regression = model[0], model[-1]
    terms = [""] * len(vectorizer.vocabulary_)
    for term, index in vectorizer.vocabulary_.items():
        terms[index] = term
    stored_terms = np.array(terms, dtype=str)
    classes = np.asarray(regression.classes_)
    if stored_terms.tolist() != terms or classes.dtype.kind != "U":
        raise ValueError("n-grams or class names that a numpy string array does not keep")
    np.savez(
        directory / ARRAYS,
        terms=stored_terms,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.asarray(regression.coef_, dtype=np.float64),
        intercept=np.asarray(regression.intercept_, dtype=np.float64),
        classes=classes,
    )
    settings = {
        "format": FORMAT,
        "vectorizer": _settings(vectorizer, VECTORIZER_SETTINGS),
        "regression": _settings(regression, REGRESSION_SETTINGS),
    }
    (directory / SETTINGS).write_text(json.dumps(settings, indent=1), encoding="utf-8")


def load(directory: Path) -> Pipeline:
    """The pipeline `save` wrote, rebuilt from its arrays and settings.

    Raises:
        ValueError: for an unknown format or arrays that do not fit together.
    """
    settings = json.loads((directory / SETTINGS).read_text(encoding="utf-8"))
    if settings.get("format") != FORMAT:
        raise ValueError(f"unknown format of {SETTINGS}: {settings.get('format')!r}")
    with np.load(directory / ARRAYS, allow_pickle=False) as arrays:
        terms, idf = arrays["terms"], arrays["idf"]
        coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    if not (len(terms) == len(idf) == coef.shape[1] and coef.shape[0] == len(intercept)):
        raise ValueError(f"{ARRAYS}: arrays of different lengths")
    vectorizer_settings = dict(settings["vectorizer"])
    vectorizer_settings["ngram_range"] = tuple(vectorizer_settings["ngram_range"])
    vectorizer = TfidfVectorizer(
        **vectorizer_settings, vocabulary={term: i for i, term in enumerate(terms.tolist())}
    )
    vectorizer.idf_ = idf
    regression = LogisticRegression(**settings["regression"])
    regression.classes_ = classes
    regression.coef_ = coef
    regression.intercept_ = intercept
    regression.n_features_in_ = coef.shape[1]
    return make_pipeline(vectorizer, regression)
