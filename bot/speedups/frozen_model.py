"""The loaded model is kept out of the garbage collector's full passes.

The Rasa process holds about 700,000 Python objects once the model is loaded (pipeline, policies,
domain, libraries), and they never become garbage while the model is served. Python's full
collection walks all of them: under load it ran every few seconds and took about 0.3 s each time,
a pause for every conversation in flight. With `install`, a loaded model is followed (two seconds
later, once Rasa has put it in place of the previous one) by one collection and `gc.freeze()`:
what is alive then goes to the permanent generation, so later full passes only walk what
messages create. Before a model is loaded, `gc.unfreeze()` gives the objects frozen with the
previous model back to the collector, so a model replaced by a newer one is freed.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from typing import Any, Callable

from rasa.core.agent import Agent

from bot.speedups.patching import replace_once

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0

LoadModel = Callable[..., None]


def freeze_now() -> None:
    """Collects once, then moves every object alive now to the permanent generation."""
    gc.collect()
    gc.freeze()
    logger.info("%d objects kept out of full garbage collections", gc.get_freeze_count())


def freezing(load_model: LoadModel) -> LoadModel:
    """Rasa's `Agent.load_model`, followed by `freeze_now` once the model is in place."""

    @functools.wraps(load_model)
    def _load_model(agent: Agent, *args: Any, **kwargs: Any) -> None:
        gc.unfreeze()
        load_model(agent, *args, **kwargs)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            freeze_now()
        else:
            loop.call_later(SETTLE_SECONDS, freeze_now)

    _load_model.freezing = True  # type: ignore[attr-defined]
    return _load_model


def install() -> None:
    """Makes `Agent.load_model` freeze the loaded model (once)."""
    replace_once(Agent, "load_model", "freezing", freezing)
