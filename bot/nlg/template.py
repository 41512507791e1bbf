"""Filling ``{fact}`` placeholders the way Rasa does, but never leaving a gap behind.

Rasa's own interpolation returns the raw template when a fact is missing and prints ``None``
for an empty slot. Here a missing, ``None`` or empty fact raises :class:`MissingFact`, so the
caller can log it and answer with a safe sentence instead.

Template syntax and a leaked ``None`` are looked for where they can come from: the template's
own text (outside its placeholders) and facts that are not text (a list or dict formatted with
braces, a ``None`` inside one). A text fact is shown as written: what a customer typed (a
complaint saying ``{name}`` or ``None``) is their words, not a gap.
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
    """A template, or a fact that is not text, would show template syntax or the word None."""


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
        TemplateSyntaxLeft: the template shows braces or ``None`` outside its placeholders, or a
            fact that is not text formats with braces or ``None``.
    """
    missing = [name for name in placeholders(text) if not _present(facts.get(name))]
    if missing:
        raise MissingFact(missing)
    if LEFTOVER.search(PLACEHOLDER.sub("", text)):
        raise TemplateSyntaxLeft("braces or None left in the template")
    values = {name: facts[name] for name in placeholders(text)}
    if any(not isinstance(v, str) and LEFTOVER.search(format(v)) for v in values.values()):
        raise TemplateSyntaxLeft("a fact that is not text shows braces or None")
    return PLACEHOLDER.sub(lambda match: format(values[match.group(1).strip()]), text)
