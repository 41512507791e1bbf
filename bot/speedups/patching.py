"""Replacing one of Rasa's methods by a wrapped one, once."""

from __future__ import annotations

from typing import Any, Callable


def replace_once(
    owner: type, name: str, marker: str, wrap: Callable[[Any], Any], static: bool = False
) -> None:
    """Sets `owner.name` to `wrap(current)`, unless the current one carries `marker` already.

    Args:
        owner: The class whose method is replaced.
        name: The method's name.
        marker: The attribute `wrap` sets on what it returns (how a second call knows).
        wrap: Makes the replacement from the current method.
        static: Set the replacement as a static method (the current one is one).
    """
    current = getattr(owner, name)
    if getattr(current, marker, False):
        return
    replacement = wrap(current)
    setattr(owner, name, staticmethod(replacement) if static else replacement)
