"""Jieba tokenizer that skips the blanks left by the length-preserving normaliser."""

from __future__ import annotations

from typing import List, Tuple

import jieba
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


def segments(text: str) -> List[Tuple[str, int, int]]:
    """Segments text with jieba's dictionaries and drops whitespace-only pieces.

    Jieba's HMM guessing of unknown words is off: it glues words such as
    买三罐 or 拍大码 together unpredictably; the shop's vocabulary belongs in
    the user dictionaries instead.

    Args:
        text: Normalised text.

    Returns:
        ``(word, start, end)`` for every non-blank jieba token.
    """
    pieces = jieba.tokenize(text, HMM=False)
    return [(word, start, end) for word, start, end in pieces if word.strip()]


def load_user_dictionaries(folder: str) -> None:
    """Loads every jieba user dictionary in a folder (as JiebaTokenizer does)."""
    JiebaTokenizer._load_custom_dictionary(folder)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class ShopJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` with the shop's dictionaries, ignoring blank tokens."""

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenizes the attribute's text into non-blank jieba tokens."""
        text = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in segments(text)]
        return self._apply_token_pattern(tokens)
