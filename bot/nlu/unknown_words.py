"""Sends messages made of words the assistant never saw to the fallback.

An intent classifier always picks some intent, and keyboard mashing like ``zxqv blorp`` can
land on ``thank`` with high confidence. This component remembers every word token of the
training data; at inference, when at most ``max_known_share`` of a message's word tokens are
known and no entity was found, the message becomes ``nlu_fallback`` just as the
FallbackClassifier would make it, flagged ``unknown_words`` in the parse result so the two-stage
fallback asks the customer to rephrase instead of offering the classifier's guesses (the ranking
stays below it for the agent console). Tokens that are only digits
or punctuation are not words and do not count.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Set

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normaliser import ORIGINAL_TEXT

WORD = re.compile(r"[^\W\d_]")  # a letter or a CJK character
VOCABULARY_FILE = "vocabulary.json"
UNKNOWN_WORDS = "unknown_words"  # parse result flag: no known word, nothing worth offering


def word_tokens(message: Message) -> List[str]:
    """The message's tokens that contain a letter or a Chinese character."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return [token.text for token in tokens if WORD.search(token.text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsGuard(GraphComponent):
    """Turns a message without known words into ``nlu_fallback``."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Share of known word tokens at or below which a message is unknown; its confidence."""
        return {"max_known_share": 0.0, "confidence": 0.4}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Set[str] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnknownWordsGuard":
        """Creates an untrained guard."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownWordsGuard":
        """Loads the vocabulary persisted at training time."""
        try:
            with model_storage.read_from(resource) as path:
                words = json.loads((path / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            words = []
        return cls(config, model_storage, resource, set(words))

    def train(self, training_data: TrainingData) -> Resource:
        """Collects the word tokens of every training example and persists them."""
        for example in training_data.training_examples:
            self.vocabulary.update(word_tokens(example))
        with self._model_storage.write_to(self._resource) as path:
            (path / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def known_share(self, message: Message) -> float:
        """Share of the message's word tokens seen in training (1.0 without word tokens)."""
        words = word_tokens(message)
        if not words:
            return 1.0
        return sum(word in self.vocabulary for word in words) / len(words)

    def process(self, messages: List[Message]) -> List[Message]:
        """Marks messages without known words as ``nlu_fallback``."""
        for message in messages:
            text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
            if text.startswith(INTENT_MESSAGE_PREFIX) or message.get(ENTITIES):
                continue
            if not self.vocabulary or self.known_share(message) > self._config["max_known_share"]:
                continue
            message.set(UNKNOWN_WORDS, True, add_to_output=True)
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == DEFAULT_NLU_FALLBACK_INTENT_NAME:
                continue  # the FallbackClassifier got there first: flagged all the same
            fallback = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: self._config["confidence"],
            }
            message.set(INTENT, fallback, add_to_output=True)
            message.data.setdefault(INTENT_RANKING_KEY, [])
            message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
        return messages
