"""A loaded model kept out of full garbage collections (bot/speedups/frozen_model.py)."""

import asyncio
import gc
import weakref

import pytest
from rasa.core.agent import Agent

from bot.speedups import frozen_model


class Model:
    """Stands for a loaded model: objects in a reference cycle, as real models have."""

    def __init__(self):
        self.itself = self
        self.parts = [[n] for n in range(1000)]


@pytest.fixture(autouse=True)
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()


def loader(holder, frozen_during_load):
    def load_model(agent, path):
        frozen_during_load.append(gc.get_freeze_count())
        holder["model"] = Model()

    return load_model


def test_a_loaded_model_is_frozen_and_the_replaced_one_freed():
    holder, during = {}, []
    load = frozen_model.freezing(loader(holder, during))
    load(None, "first.tar.gz")
    first = weakref.ref(holder["model"])
    assert gc.get_freeze_count() > 1000
    load(None, "second.tar.gz")
    assert during[1] == 0  # the first model was given back to the collector before loading
    gc.collect()
    assert first() is None
    assert gc.get_freeze_count() > 1000


def test_inside_the_server_the_freeze_waits_until_the_model_is_in_place(monkeypatch):
    monkeypatch.setattr(frozen_model, "SETTLE_SECONDS", 0.05)
    load = frozen_model.freezing(loader({}, []))

    async def serve():
        load(None, "model.tar.gz")
        right_after = gc.get_freeze_count()
        await asyncio.sleep(0.2)
        return right_after, gc.get_freeze_count()

    right_after, later = asyncio.run(serve())
    assert right_after == 0 and later > 1000


def test_installed_once(monkeypatch):
    monkeypatch.setattr(Agent, "load_model", Agent.load_model)
    frozen_model.install()
    installed = Agent.load_model
    frozen_model.install()
    assert Agent.load_model is installed and installed.freezing
