"""Blends DIET's intent ranking with a character n-gram linear model of the whole message.

DIET reads jieba's words: a typo or a homophone (在马, 退欵) changes the words and DIET loses
its footing, and with few examples per intent it over-trusts single features. A logistic
regression over TF-IDF weighted character 1–3-grams of the normalised message (across word
boundaries, so a wrongly segmented typo still shares most n-grams with the right word) learns in
seconds and errs differently; on the project's data it alone matched DIET. Averaging the two
rankings is steadier than either. The component sits right after DIET: it keeps DIET's
entities, replaces ``intent`` and ``intent_ranking`` with the blend, and leaves the fallback
decision to the ``FallbackClassifier`` after it. Without DIET before it, it is the regression.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from bot.nlu import linear_store
from bot.nlu.linear_scorer import LinearScorer

# models trained before the plain-array files: their skops file keeps the TF-IDF weights as a
# sparse diagonal matrix, plain data, safe to load
LEGACY_FILE = "intent_blend.skops"
TRUSTED_TYPES = {"scipy.sparse._csr.csr_matrix"}
DIGIT = re.compile(r"\d")


def digit_shape(text: str) -> str:
    """The text with every digit written as 0: numbers keep their length, not their value.

    An order number, a phone tail or a height says what kind of detail the customer gives by its
    length and the words around it; its digits say nothing about the intent, yet as character
    n-grams they would pull the reading one way or another from one order number to the next.
    """
    return DIGIT.sub("0", text)


def blend(
    first: List[Dict[str, Any]], second: Dict[str, float], weight: float
) -> List[Dict[str, Any]]:
    """A ranking from two: ``weight`` of the first's confidence plus the rest of the second's.

    Args:
        first: a Rasa intent ranking (name, confidence), possibly cut to its top entries.
        second: confidence per intent name of the other model.
        weight: share of the first model, 0 to 1.

    Returns:
        The blended ranking, most confident first.
    """
    firsts = {entry[INTENT_NAME_KEY]: float(entry["confidence"]) for entry in first}
    scores = {
        name: weight * firsts.get(name, 0.0) + (1 - weight) * second.get(name, 0.0)
        for name in set(firsts) | set(second)
    }
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [{INTENT_NAME_KEY: name, "confidence": score} for name, score in ranked]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentBlend(GraphComponent):
    """Character TF-IDF logistic regression whose probabilities are averaged with DIET's."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The blend's settings.

        ``diet_weight``: DIET's share of the blend; ``max_ngram``: longest character n-gram;
        ``C``: the regression's inverse penalty; ``ranking_length``: intents kept in the ranking.
        """
        return {"diet_weight": 0.5, "max_ngram": 3, "C": 30.0, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Pipeline] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._scorer = LinearScorer.for_pipeline(model)  # the same probabilities, faster

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentBlend":
        """A new untrained blend."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the regression on the normalised text of every intent example and stores it."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        if not examples:
            return self._resource
        self._model = make_pipeline(
            TfidfVectorizer(
                analyzer="char", ngram_range=(1, self._config["max_ngram"]), sublinear_tf=True
            ),
            LogisticRegression(C=self._config["C"], class_weight="balanced", max_iter=2000),
        )
        texts = [digit_shape(m.get(TEXT)) for m in examples]
        self._model.fit(texts, [m.get(INTENT) for m in examples])
        self._scorer = LinearScorer.for_pipeline(self._model)
        with self._storage.write_to(self._resource) as model_dir:
            linear_store.save(self._model, model_dir)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentBlend":
        """Loads the trained blend from its plain arrays (`bot.nlu.linear_store`).

        A model trained before those files keeps its skops file; there only sklearn's own types
        and a sparse matrix are trusted.

        Raises:
            ValueError: when the stored arrays do not fit together, or a skops file holds any
                other type (it is not loaded).
        """
        with model_storage.read_from(resource) as model_dir:
            if linear_store.is_stored(model_dir):
                model = linear_store.load(model_dir)
            else:
                model = cls._load_legacy(model_dir / LEGACY_FILE)
        return cls(config, model_storage, resource, model)

    @staticmethod
    def _load_legacy(path: Path) -> Pipeline:
        import skops.io as sio

        unknown = set(sio.get_untrusted_types(file=path))
        if not unknown <= TRUSTED_TYPES:
            raise ValueError(f"untrusted types in {path.name}: {sorted(unknown)}")
        return sio.load(path, trusted=sorted(unknown))

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets each message's intent and ranking to the blend of DIET and the regression."""
        if self._model is None or not messages:
            return messages
        probabilities = (self._scorer or self._model).predict_proba(
            [digit_shape(m.get(TEXT) or "") for m in messages]
        )
        classes = [str(name) for name in self._model.classes_]
        for message, row in zip(messages, probabilities, strict=True):
            linear = dict(zip(classes, np.asarray(row, dtype=float).tolist(), strict=True))
            diet = message.get(INTENT_RANKING_KEY) or []
            ranking = blend(diet, linear, self._config["diet_weight"] if diet else 0.0)
            ranking = ranking[: self._config["ranking_length"]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
