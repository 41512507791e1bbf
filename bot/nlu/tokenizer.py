"""Jieba tokenizer that skips the blanks left by the length-preserving normaliser."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from shop.text.segment import segments


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class ShopJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` with the shop's dictionaries, ignoring blank tokens."""

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenizes the attribute's text into non-blank jieba tokens."""
        text = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in segments(text)]
        return self._apply_token_pattern(tokens)
