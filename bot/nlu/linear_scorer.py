"""Scores messages with a fitted character TF-IDF logistic regression, one message at a time.

scikit-learn's `Pipeline.predict_proba` on a single short message spends most of its time
around the arithmetic (checking its input, building and multiplying sparse matrices): about a
fifteenth of the Rasa server's CPU per customer message. A message has a few dozen character
n-grams; `LinearScorer` computes the same numbers from the fitted model's arrays directly: the
n-grams as scikit-learn's `char` analyzer cuts them (lower-cased, runs of white space made one
space), their counts, sublinear tf, idf, the norm, then the regression's scores and its
probabilities (softmax for a multinomial model, normalised logistic functions for one-vs-rest).
The test holds its probabilities against scikit-learn's to a billionth.

Models it does not cover (another analyzer, accents stripped, a custom preprocessor) get `None`
from `for_pipeline`, and the caller keeps scikit-learn.
"""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's, for the char analyzer


class LinearScorer:
    """A fitted vectorizer-and-regression pipeline's `predict_proba`, for short texts."""

    def __init__(self, pipeline: Pipeline) -> None:
        vectorizer, regression = pipeline[0], pipeline[-1]
        self.vocabulary: Dict[str, int] = dict(vectorizer.vocabulary_)
        self.min_n, self.max_n = vectorizer.ngram_range
        self.lowercase = bool(vectorizer.lowercase)
        self.sublinear_tf = bool(vectorizer.sublinear_tf)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
        self.norm = vectorizer.norm
        self.weights = np.ascontiguousarray(np.asarray(regression.coef_, dtype=np.float64).T)
        self.intercept = np.asarray(regression.intercept_, dtype=np.float64)
        self.classes_ = regression.classes_
        self.one_vs_rest = regression.multi_class in ("ovr", "warn") or (
            regression.multi_class == "auto"
            and (len(regression.classes_) <= 2 or regression.solver == "liblinear")
        )

    @classmethod
    def for_pipeline(cls, pipeline: Optional[Pipeline]) -> Optional["LinearScorer"]:
        """A scorer for the pipeline, or None when it is not a model this module reproduces."""
        if pipeline is None or len(pipeline) != 2:
            return None
        vectorizer, regression = pipeline[0], pipeline[-1]
        supported = (
            type(vectorizer).__name__ == "TfidfVectorizer"
            and type(regression).__name__ == "LogisticRegression"
            and vectorizer.analyzer == "char"
            and vectorizer.strip_accents is None
            and vectorizer.preprocessor is None
            and vectorizer.input == "content"
            and vectorizer.norm in ("l1", "l2", None)
            and getattr(regression, "coef_", None) is not None
        )
        return cls(pipeline) if supported else None

    def ngrams(self, text: str) -> List[str]:
        """The character n-grams of scikit-learn's `char` analyzer, in its order."""
        if self.lowercase:
            text = text.lower()
        text = WHITE_SPACES.sub(" ", text)
        length = len(text)
        found: List[str] = []
        for n in range(self.min_n, min(self.max_n, length) + 1):
            found.extend(text[i : i + n] for i in range(length - n + 1))
        return found

    def scores(self, text: str) -> np.ndarray:
        """The regression's decision values for one text."""
        counts: Dict[int, int] = {}
        vocabulary = self.vocabulary
        for ngram in self.ngrams(text):
            index = vocabulary.get(ngram)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return self.intercept.copy()
        indexes = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
        values = np.array([counts[i] for i in indexes.tolist()], dtype=np.float64)
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        if self.idf is not None:
            values *= self.idf[indexes]
        if self.norm == "l2":
            size = math.sqrt(float(np.dot(values, values)))
        elif self.norm == "l1":
            size = float(np.abs(values).sum())
        else:
            size = 0.0
        if size > 0.0:
            values /= size
        return values @ self.weights[indexes] + self.intercept

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The probabilities of each class for each text, as the pipeline's `predict_proba`."""
        rows = []
        for text in texts:
            decision = self.scores(text)
            if self.one_vs_rest:
                probabilities = 1.0 / (1.0 + np.exp(-decision))
                if probabilities.shape[0] == 1:
                    probabilities = np.array([1.0 - probabilities[0], probabilities[0]])
                else:
                    probabilities /= probabilities.sum()
            else:
                if decision.shape[0] == 1:  # two classes: scikit-learn's softmax over ±score
                    decision = np.array([-decision[0], decision[0]])
                probabilities = np.exp(decision - decision.max())
                probabilities /= probabilities.sum()
            rows.append(probabilities)
        return np.vstack(rows) if rows else np.zeros((0, len(self.classes_)))
