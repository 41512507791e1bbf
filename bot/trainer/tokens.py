"""Jieba tokens of a customer message, and entity spans that must fall on them.

The web app segments with the pipeline's own segmenter (`shop.text.segment`, which the NLU
tokenizer uses too) after the length-preserving normaliser, so offsets in the normalised text are
offsets in the text as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import jieba

from shop.text.segment import dedup_key, load_user_dictionaries, pipeline_text, segments

__all__ = ["Token", "SpanRefused", "dedup_key", "load_user_dictionaries", "tokenize", "snap"]
MAX_WORD_CHARS = 20
DEFAULT_WORD_FREQUENCY = 1000


@dataclass(frozen=True)
class Token:
    """One jieba token: the word as the customer wrote it and its character offsets."""

    text: str
    start: int
    end: int


class SpanRefused(ValueError):
    """An entity span that does not fall on token boundaries (or is empty or out of range).

    Attributes:
        code: A short reason (`split_token`, `empty`, `out_of_range`).
        token: The token the span splits, when it splits one.
        whole: The smallest whole-token span covering the request, when there is one.
    """

    def __init__(self, code: str, token: str = "", whole: Tuple[int, int] | None = None):
        """Keeps the reason, the token split and the span that would fit."""
        super().__init__(code if not token else f"{code}: {token}")
        self.code = code
        self.token = token
        self.whole = whole


def tokenize(text: str) -> List[Token]:
    """The non-blank jieba tokens of a message, with offsets into the text as written.

    The normaliser keeps the length, so offsets in the normalised text are offsets in the
    original; each token shows the customer's own characters.
    """
    return [Token(text[start:end], start, end) for _, start, end in segments(pipeline_text(text))]


def snap(text: str, start: int, end: int) -> Tuple[int, int]:
    """The entity span `[start, end)` on token boundaries, or the reason it cannot be one.

    Blanks at either edge are trimmed (they belong to no token); a span whose edges then fall
    inside a token is refused, naming the token and the whole-token span that would cover it.

    Args:
        text: The message as written.
        start: First character of the span.
        end: One past its last character.

    Returns:
        `(start, end)` on token boundaries.

    Raises:
        SpanRefused: for an empty span, one outside the text, or one that splits a token.
    """
    if not (0 <= start < end <= len(text)):
        raise SpanRefused("out_of_range")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        raise SpanRefused("empty")
    tokens = tokenize(text)
    covering = [t for t in tokens if t.start < end and t.end > start]
    whole = (covering[0].start, covering[-1].end) if covering else None
    for token in covering:
        if token.start < start < token.end or token.start < end < token.end:
            raise SpanRefused("split_token", token.text, whole)
    return start, end


def valid_word(word: str) -> bool:
    """Whether a word may go into the shop dictionary: no blanks, 2 to 20 characters."""
    return 2 <= len(word) <= MAX_WORD_CHARS and not any(c.isspace() for c in word)


def add_word(word: str) -> None:
    """Teaches the running segmenter a dictionary word (the file is written by `labels`)."""
    jieba.add_word(word, DEFAULT_WORD_FREQUENCY)
