"""Jieba segmentation as the NLU pipeline does it, without Rasa (so no TensorFlow is loaded).

The pipeline's tokenizer (`bot.nlu.tokenizer.ShopJiebaTokenizer`), the training-data checker and
the trainer workbench all segment here, so an entity span the workbench accepts is one the model
can learn, and "the same example" means the same thing everywhere.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Dict, List, Tuple, Union

import jieba

from shop.text.homophones import correct_homophones
from shop.text.normalise import normalise

_BLANKS = re.compile(r"\s+")
_loaded: Dict[str, float] = {}
_lock = threading.Lock()


def pipeline_text(text: str) -> str:
    """The text as the NLU pipeline's features and tokenizer see it: normalised, typos put right.

    Same length as ``text``, so offsets in one are offsets in the other.
    """
    return correct_homophones(normalise(text))


def segments(text: str) -> List[Tuple[str, int, int]]:
    """Segments text with jieba's dictionaries and drops whitespace-only pieces.

    Jieba's HMM guessing of unknown words is off: it glues words such as 买三罐 or 拍大码
    together unpredictably; the shop's vocabulary belongs in the user dictionaries instead.

    Args:
        text: Normalised text.

    Returns:
        ``(word, start, end)`` for every non-blank jieba token.
    """
    pieces = jieba.tokenize(text, HMM=False)
    return [(word, start, end) for word, start, end in pieces if word.strip()]


def load_user_dictionaries(folder: Union[str, Path]) -> None:
    """Loads every jieba user dictionary in a folder, again only when a file changed.

    Args:
        folder: The dictionaries' folder (`data/dicts`).
    """
    with _lock:
        for path in sorted(Path(folder).glob("*")):
            if not path.is_file():
                continue
            stamp = path.stat().st_mtime
            if _loaded.get(str(path)) != stamp:
                jieba.load_userdict(str(path))
                _loaded[str(path)] = stamp


def dedup_key(text: str) -> str:
    """The form two training examples must not share: normalised, without blanks or punctuation."""
    key = _BLANKS.sub("", normalise(text))
    return re.sub(r"[^\w]", "", key) or key
