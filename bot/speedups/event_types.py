"""Event classes found by their name once, not by walking every class for each event.

Rasa 3.6 turns every stored event (the tracker store's rows, the action server's answers) into
an object through `Event.resolve_by_type`, which lists every subclass of `Event` and asks
`inspect.isabstract` of each, for every single event: an eighth of the Rasa process's CPU per
customer message under load (bench/README.md). With `install`, the class Rasa's own search
found for a name is remembered; a name Rasa does not know still goes to Rasa's search every time
(which returns the default or raises, as before).
"""

from __future__ import annotations

import functools
from typing import Callable, Dict, Optional, Type

from rasa.shared.core.events import Event

from bot.speedups.patching import replace_once

Resolve = Callable[[str, Optional[Type[Event]]], Optional[Type[Event]]]


def remembering(resolve: Resolve) -> Resolve:
    """Rasa's `Event.resolve_by_type`, remembering each class it finds by its name.

    Args:
        resolve: Rasa's search.

    Returns:
        The lookup to use instead (same arguments, same answers).
    """
    found: Dict[str, Type[Event]] = {}

    @functools.wraps(resolve)
    def resolve_by_type(
        type_name: str, default: Optional[Type[Event]] = None
    ) -> Optional[Type[Event]]:
        known = found.get(type_name)
        if known is not None:
            return known
        resolved = resolve(type_name, default)
        if resolved is not None and resolved.type_name == type_name:
            found[type_name] = resolved
        return resolved

    resolve_by_type.remembering = True  # type: ignore[attr-defined]
    return resolve_by_type


def install() -> None:
    """Makes `Event.resolve_by_type` remember what it found (once)."""
    replace_once(Event, "resolve_by_type", "remembering", remembering, static=True)
