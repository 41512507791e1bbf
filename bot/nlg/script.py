"""Which script a customer writes in, and answering in it.

A message counts as Traditional when it has more characters that OpenCC's ``t2s`` changes than
characters ``s2tw`` changes; as Simplified in the opposite case; otherwise (digits, order
numbers, emoji, characters shared by both scripts, button payloads) it says nothing. The
conversation's script is the one of the customer's latest message that said something, so a
customer who wrote Traditional keeps Traditional answers while they type an order number.
Answers are written in Simplified and converted with ``s2tw`` (Taiwan standard characters).
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping, Optional

import opencc

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"


@functools.lru_cache(maxsize=None)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _changed(text: str, config: str) -> int:
    converted = _converter(config).convert(text)
    if len(converted) == len(text):
        return sum(1 for a, b in zip(text, converted, strict=True) if a != b)
    return sum(1 for ch in text if _converter(config).convert(ch) != ch)


def script_of(text: str) -> Optional[str]:
    """The script a piece of customer text is written in, or None when it does not tell.

    Args:
        text: What the customer wrote.

    Returns:
        ``"traditional"``, ``"simplified"`` or None.
    """
    if not text or text.startswith("/"):
        return None
    traditional = _changed(text, "t2s")
    simplified = _changed(text, "s2tw")
    if traditional > simplified:
        return TRADITIONAL
    if simplified > traditional:
        return SIMPLIFIED
    return None


def conversation_script(events: Iterable[Mapping[str, Any]]) -> str:
    """The script of a conversation: that of the latest customer message that tells.

    Args:
        events: The tracker's events, oldest first.

    Returns:
        ``"traditional"`` or ``"simplified"`` (the default).
    """
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        found = script_of(event.get("text") or "")
        if found:
            return found
    return SIMPLIFIED


def to_script(text: str, script: str) -> str:
    """Convert a Simplified answer to the customer's script.

    Args:
        text: Text in Simplified Chinese.
        script: ``"traditional"`` or ``"simplified"``.

    Returns:
        The text in that script.
    """
    if script == TRADITIONAL and text:
        return _converter("s2tw").convert(text)
    return text
