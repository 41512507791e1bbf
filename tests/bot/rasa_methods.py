"""Rasa's own methods, for the tests of the modules that wrap them once (`replace_once`)."""

from typing import Any, Callable, Dict, Tuple


def rasa_original(owner: type, name: str, marker: str) -> Any:
    """`owner.name` as Rasa defines it, also when this process has installed the wrapper."""
    current = owner.__dict__[name]
    return current.__wrapped__ if getattr(current, marker, False) else current


def installed_once(
    monkeypatch: Any, install: Callable[[], None], owner: type, originals: Dict[str, Any]
) -> Tuple[Any, ...]:
    """Installs twice over Rasa's own methods; what the first install set, the second kept.

    Args:
        monkeypatch: The test's monkeypatch (Rasa's methods come back after the test).
        install: The module's `install`.
        owner: The class whose methods it replaces.
        originals: Rasa's methods by name, as they are set on the class before installing.

    Returns:
        The installed methods, in the order of `originals`.
    """
    for name, original in originals.items():
        monkeypatch.setattr(owner, name, original)
    install()
    installed = tuple(getattr(owner, name) for name in originals)
    install()
    again = tuple(getattr(owner, name) for name in originals)
    assert all(first is second for first, second in zip(installed, again, strict=True))
    return installed
