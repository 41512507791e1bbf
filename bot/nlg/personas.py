"""Personas as data: ``personas/<id>.yml`` plus the domain's default texts, re-read on change.

A persona file::

    id: master                       # the file name without .yml, a persona slot value
    name: 主人模式                    # display name
    address: 主人                     # how the customer is addressed
    voice: 俏皮又忠心的松鼠小二 …      # voice description for people writing templates
    safe_default: 主人，…             # said when a template cannot be filled (a fact is missing)
    styles:                          # style frames (bot/nlg/style.py)
      expressive: {before: …}
      amiable: {after: …}
      analytical: {after: …}
    fallback: [utter_x]              # responses answered with the default text, on purpose,
    fallback_rewrite:                # with these replacements (the persona's address) applied
      - ["亲，", "主人，"]
    responses:
      utter_greet: 主人好呀 …          # one text,
      utter_goodbye: [文本一, 文本二]   # variants,
      utter_ask_persona: {text: …, buttons: [...]}   # or a text with buttons

``default.yml`` sets ``responses: domain``: the default persona speaks the domain's own texts
(with their conditions and buttons), so its rendering equals Rasa's.

A file edited into something unusable (broken YAML, a missing key, a malformed response, the
domain without ``responses``) does not stop the replies: the last good version stays in use
and the problem is logged once per change of the file (its name and the error type).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from bot.settings import ROOT

logger = logging.getLogger(__name__)

PERSONA_IDS = ("default", "master", "lady", "spicy", "fresh", "crazy", "advisor")
DEFAULT_PERSONA = "default"
Variant = Dict[str, Any]


class PersonaError(ValueError):
    """A persona file is malformed."""


@dataclass(frozen=True)
class Persona:
    """One persona: who speaks, how they address the customer, and what they say."""

    id: str
    name: str
    address: str
    voice: str
    safe_default: str
    styles: Mapping[str, Mapping[str, str]]
    fallback: Tuple[str, ...]
    fallback_rewrite: Tuple[Tuple[str, str], ...] = ()
    responses: Mapping[str, List[Variant]] = field(default_factory=dict)
    uses_domain: bool = False


def _variants(name: str, value: Any) -> List[Variant]:
    if isinstance(value, str):
        return [{"text": value}]
    if isinstance(value, dict):
        return [dict(value)]
    if isinstance(value, list) and value:
        return [v for item in value for v in _variants(name, item)]
    raise PersonaError(f"response {name}: expected text, list or mapping, got {value!r}")


def parse_persona(data: Mapping[str, Any], source: str) -> Persona:
    """Build a persona from a loaded YAML mapping.

    Args:
        data: The file's content.
        source: Where it came from (for error messages).

    Returns:
        The persona.

    Raises:
        PersonaError: a required key is missing or a response is malformed.
    """
    if not isinstance(data, Mapping):
        raise PersonaError(f"{source}: expected a mapping, got {type(data).__name__}")
    for key in ("id", "name", "address", "voice", "safe_default"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise PersonaError(f"{source}: '{key}' must be a non-empty text")
    raw = data.get("responses") or {}
    uses_domain = raw == "domain"
    if not uses_domain and not isinstance(raw, Mapping):
        raise PersonaError(f"{source}: 'responses' must be a mapping or 'domain'")
    responses = {} if uses_domain else {k: _variants(k, v) for k, v in dict(raw).items()}
    for name, variants in responses.items():
        for variant in variants:
            if not isinstance(variant.get("text"), str) or not variant["text"].strip():
                raise PersonaError(f"{source}: response {name} has a variant without text")
    styles = data.get("styles") or {}
    if not isinstance(styles, Mapping) or not all(
        isinstance(frame, Mapping) for frame in styles.values()
    ):
        raise PersonaError(f"{source}: 'styles' must map each style to before/after texts")
    fallback = data.get("fallback") or []
    if not isinstance(fallback, list) or not all(isinstance(name, str) for name in fallback):
        raise PersonaError(f"{source}: 'fallback' must be a list of response names")
    rewrites = data.get("fallback_rewrite") or []
    if not isinstance(rewrites, list) or not all(
        isinstance(pair, list) and len(pair) == 2 for pair in rewrites
    ):
        raise PersonaError(f"{source}: 'fallback_rewrite' must be a list of [old, new] pairs")
    return Persona(
        id=data["id"],
        name=data["name"],
        address=data["address"],
        voice=data["voice"].strip(),
        safe_default=data["safe_default"],
        styles=dict(styles),
        fallback=tuple(fallback),
        fallback_rewrite=tuple((str(a), str(b)) for a, b in rewrites),
        responses=responses,
        uses_domain=uses_domain,
    )


def parse_domain_responses(data: Any, source: str) -> Dict[str, List[Variant]]:
    """The responses of a loaded ``domain.yml``, checked the way the renderer uses them.

    Args:
        data: The file's content.
        source: Where it came from (for error messages).

    Returns:
        Response name → variants.

    Raises:
        PersonaError: the domain has no ``responses`` mapping or a response is malformed.
    """
    responses = data.get("responses") if isinstance(data, Mapping) else None
    if not isinstance(responses, Mapping) or not responses:
        raise PersonaError(f"{source}: no 'responses' mapping")
    for name, variants in responses.items():
        if not isinstance(variants, list) or not all(isinstance(v, Mapping) for v in variants):
            raise PersonaError(f"{source}: response {name} must be a list of variants")
    return dict(responses)


class _Cached:
    """A YAML file parsed once per change, falling back to its last good version.

    A version that cannot be read or parsed is logged once (file name and error type) and the
    last good value stays in use; only when no version was ever good is the error raised.
    """

    def __init__(self, path: Path):
        self.path = path
        self.stamp: Optional[Tuple[Any, ...]] = None
        self.value: Any = None
        self.loaded = False
        self.failure: Optional[Exception] = None

    def get(self, parse: Any) -> Any:
        try:
            stat = self.path.stat()
            stamp: Tuple[Any, ...] = (stat.st_mtime_ns, stat.st_size)
        except OSError as error:
            stamp, failure = ("unreadable", type(error).__name__), error
        else:
            failure = None
        if stamp != self.stamp:
            self.stamp = stamp
            if failure is None:
                try:
                    value = parse(yaml.safe_load(self.path.read_text(encoding="utf-8")))
                except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError) as error:
                    failure = error
            if failure is None:
                self.value, self.loaded, self.failure = value, True, None
            else:
                self.failure = failure
                logger.error(
                    "%s is unusable (%s: %s); %s",
                    self.path.name,
                    type(failure).__name__,
                    " ".join(str(failure).split())[:300],
                    "keeping its last good version" if self.loaded else "no good version yet",
                )
        if self.loaded:
            return self.value
        if isinstance(self.failure, FileNotFoundError):
            raise FileNotFoundError(str(self.path))
        raise PersonaError(f"{self.path.name}: {type(self.failure).__name__}")


class PersonaStore:
    """Every persona and the domain's responses, re-read when a file changes."""

    def __init__(self, personas_dir: Path = ROOT / "personas", domain: Path = ROOT / "domain.yml"):
        self.personas_dir = personas_dir
        self._domain = _Cached(domain)
        self._files: Dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def domain_responses(self) -> Dict[str, List[Variant]]:
        """The domain's responses (name → variants), as Rasa reads them.

        Empty (every default text then answers with the safe sentence) only while the domain
        never had a usable version; a later broken edit keeps the last good responses.
        """
        with self._lock:
            try:
                return self._domain.get(
                    lambda data: parse_domain_responses(data, str(self._domain.path))
                )
            except (PersonaError, FileNotFoundError):
                return {}

    def ids(self) -> List[str]:
        """The ids of the persona files present."""
        return sorted(p.stem for p in self.personas_dir.glob("*.yml"))

    def get(self, persona_id: str) -> Persona:
        """The persona with this id (re-read when its file changed).

        A file edited into something unusable keeps its last good version (logged once).

        Raises:
            KeyError: no such persona file.
            PersonaError: the file is malformed and had no good version since start-up.
        """
        path = self.personas_dir / f"{persona_id}.yml"
        if persona_id not in PERSONA_IDS and not path.exists():
            raise KeyError(persona_id)
        with self._lock:
            cached = self._files.get(persona_id)
            if cached is None:
                cached = self._files[persona_id] = _Cached(path)
            try:
                return cached.get(lambda data: _checked(parse_persona(data, str(path)), persona_id))
            except FileNotFoundError:
                raise KeyError(persona_id) from None

    def variants(self, persona: Persona, response: str) -> Tuple[List[Variant], bool]:
        """The variants a persona says for a response.

        Returns:
            The variants and whether they are the domain's (default) texts, which may carry
            conditions. Empty when the response is unknown to both. A persona's fallback
            texts come with its ``fallback_rewrite`` applied.
        """
        if not persona.uses_domain and response in persona.responses:
            return self._with_domain_buttons(persona.responses[response], response), False
        if not persona.uses_domain and response not in persona.fallback:
            logger.warning(
                "persona %s has no template for %s and does not list it as a fallback",
                persona.id,
                response,
            )
        variants = list(self.domain_responses().get(response) or [])
        if persona.uses_domain or not persona.fallback_rewrite:
            return variants, True
        return [{**v, "text": rewrite(v.get("text") or "", persona)} for v in variants], True

    def _with_domain_buttons(self, variants: List[Variant], response: str) -> List[Variant]:
        """A persona's variants, with the domain's quick replies where the persona names none.

        Buttons are choices (time slots, yes / no), not voice: a persona that rewrites the
        question keeps the domain's buttons unless it lists its own.
        """
        domain = self.domain_responses().get(response) or []
        buttons = next((v["buttons"] for v in domain if v.get("buttons")), None)
        if not buttons:
            return variants
        return [v if v.get("buttons") else {**v, "buttons": buttons} for v in variants]


def _checked(persona: Persona, persona_id: str) -> Persona:
    if persona.id != persona_id:
        raise PersonaError(f"{persona_id}.yml: 'id' is {persona.id!r}, not {persona_id!r}")
    return persona


def rewrite(text: str, persona: Persona) -> str:
    """Apply a persona's fallback replacements to a default text, in order.

    Args:
        text: The domain's default text.
        persona: The persona speaking it.

    Returns:
        The text in the persona's address.
    """
    for old, new in persona.fallback_rewrite:
        text = text.replace(old, new)
    return text
