"""Filling ``{fact}`` placeholders the way Rasa does, but never leaving a gap behind.

Rasa's own interpolation returns the raw template when a fact is missing and prints ``None``
for an empty slot. Here a missing, ``None`` or empty fact raises :class:`MissingFact`, so the
caller can log it and answer with a safe sentence instead.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Set

PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")
# ``None``/``null`` not inside a Latin word: ``\b`` would miss "现价None元" (CJK are word characters).
LEFTOVER = re.compile(r"[{}]|(?<![A-Za-z])(?:None|null)(?![A-Za-z])")


class MissingFact(KeyError):
    """A template names facts that were not given (or are None/empty)."""

    def __init__(self, names: Iterable[str]):
        self.names: List[str] = sorted(set(names))
        super().__init__(", ".join(self.names))


class TemplateSyntaxLeft(ValueError):
    """A filled text still shows template syntax or the word None."""


def placeholders(text: str) -> Set[str]:
    """The fact names a template uses.

    Args:
        text: A template such as ``"订单 {order_id} 已发货"``.

    Returns:
        The set of names between braces.
    """
    return {name.strip() for name in PLACEHOLDER.findall(text or "")}


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def fill(text: str, facts: Mapping[str, Any]) -> str:
    """Fill every placeholder with its fact, formatted like Rasa's ``str.format``.

    Args:
        text: The template.
        facts: Slot values and action arguments.

    Returns:
        The filled text.

    Raises:
        MissingFact: a placeholder's fact is absent, None or an empty string.
        TemplateSyntaxLeft: the result still contains braces or ``None``.
    """
    missing = [name for name in placeholders(text) if not _present(facts.get(name))]
    if missing:
        raise MissingFact(missing)
    filled = PLACEHOLDER.sub(lambda match: format(facts[match.group(1).strip()]), text)
    if LEFTOVER.search(filled):
        raise TemplateSyntaxLeft("braces or None left in the filled text")
    return filled
