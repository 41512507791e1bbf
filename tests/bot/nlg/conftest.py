"""Persona store, realistic facts and a strict renderer for the persona tests."""

from pathlib import Path

import pytest
import yaml

from bot.nlg.personas import PERSONA_IDS, PersonaStore
from bot.nlg.renderer import Context, Renderer
from bot.settings import ROOT

FACTS_FILE = Path(__file__).with_name("facts.yml")


@pytest.fixture(scope="session")
def store():
    return PersonaStore(ROOT / "personas", ROOT / "domain.yml")


@pytest.fixture(scope="session")
def domain_responses(store):
    return store.domain_responses()


@pytest.fixture(scope="session")
def facts():
    """Realistic values for every placeholder, as the actions pass them."""
    return yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def renderer(store):
    """Raises on any gap instead of answering with the safe sentence."""
    return Renderer(store=store, strict=True)


def context(persona="default", style=None, script="simplified", facts=None, **extra):
    """A rendering context with the slots a fresh conversation has."""
    return Context(
        persona=persona,
        style=style,
        script=script,
        facts={"persona": persona, **(facts or {}), **extra},
    )


def ids():
    return list(PERSONA_IDS)
