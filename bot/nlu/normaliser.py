"""Pipeline component that gives the features the normalised text (homophone typos put right)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from shop.text.segment import pipeline_text

ORIGINAL_TEXT = "original_text"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class ChineseTextNormalizer(GraphComponent):
    """Normalises message text in training and at inference alike.

    The text the customer typed is kept under ``original_text`` (returned by
    ``/model/parse``) and in the tracker's ``UserUttered`` event; tokenizers,
    featurizers and extractors see the normalised text. Normalisation keeps
    the length, so entity offsets are valid for both texts.
    """

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseTextNormalizer":
        """Creates the component (it has nothing to train)."""
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises every training example's text and its literal entity values.

        An annotation whose value is its own span gets the normalised span as its
        value, so the synonym mapper does not learn "Simplified -> Traditional"
        synonyms; explicit synonyms (``{"value": ...}``) are kept as written.
        """
        self.process(training_data.training_examples)
        for message in training_data.training_examples:
            original, text = message.get(ORIGINAL_TEXT), message.get(TEXT)
            for entity in message.get(ENTITIES) or []:
                if ENTITY_ATTRIBUTE_START not in entity or ENTITY_ATTRIBUTE_END not in entity:
                    continue
                span = slice(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
                if original and entity.get(ENTITY_ATTRIBUTE_VALUE) == original[span]:
                    entity[ENTITY_ATTRIBUTE_VALUE] = text[span]
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalises the text of incoming messages."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or message.get(ORIGINAL_TEXT) is not None:
                continue
            if text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button payload like /choose_persona{"persona":"crazy"}: keep it exact
            message.set(ORIGINAL_TEXT, text, add_to_output=True)
            message.set(TEXT, pipeline_text(text))
        return messages
