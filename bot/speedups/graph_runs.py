"""Rasa's model graph run node after node in one pass, without dask's scheduler around it.

Rasa 3.6 runs its model graph for every message's NLU and for every action prediction
(`DaskGraphRunner.run`): it works out the part of the graph the targets need, builds a dask
graph, and hands it to `dask.get`, whose synchronous scheduler orders the tasks and keeps its
bookkeeping for a graph of a dozen nodes; it also formats its inputs (the tracker, the
messages) for a debug line whether or not debug logging is on. Under load that was about a
tenth of the Rasa process's CPU (bench/README.md).

With `install`, `run` keeps the graph each set of targets needs (the schema does not change
while a runner lives) and computes it as dask's synchronous `get` does for these graphs: a task
is a tuple whose first item is callable, its other items are the names of the tasks it needs
(each computed once, before it) or values passed as they are; anything else is a value; every
task of the graph runs (Rasa's graph holds only what the targets need). The test holds the
results, and which callables ran how often, against `dask.get` on random graphs.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Dict, Hashable, List, Optional, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from bot.speedups.patching import replace_once

logger = logging.getLogger("rasa.engine.runner.dask")  # Rasa's debug line, when it is written

Run = Callable[..., Dict[str, Any]]


def is_task(value: Any) -> bool:
    """Whether a dask graph value is a task (a tuple starting with something callable)."""
    return isinstance(value, tuple) and bool(value) and callable(value[0])


def hashable(value: Any) -> bool:
    """Whether the value can be a graph key (dask asks the same)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def compute(graph: Dict[Hashable, Any], targets: List[Hashable]) -> Tuple[Any, ...]:
    """What `dask.get(graph, targets)` returns for a graph of tasks naming their inputs.

    Raises:
        RecursionError: for a graph with a cycle (dask raises its own error there).
    """
    done: Dict[Hashable, Any] = {}

    def value_of(key: Hashable) -> Any:
        if key not in done:
            done[key] = evaluate(graph[key])
        return done[key]

    def evaluate(item: Any) -> Any:
        if hashable(item) and item in graph:
            return value_of(item)
        if is_task(item):
            return item[0](*(evaluate(inner) for inner in item[1:]))
        if isinstance(item, list):
            return [evaluate(inner) for inner in item]
        return item

    for key in graph:  # dask runs every task of the graph, needed by a target or not
        value_of(key)
    return tuple(done[target] for target in targets)


def in_one_pass(run: Run) -> Run:
    """Rasa's `DaskGraphRunner.run`, computing the graph with `compute`."""

    @functools.wraps(run)
    def _run(
        runner: DaskGraphRunner,
        inputs: Optional[Dict[str, Any]] = None,
        targets: Optional[List[str]] = None,
    ) -> Dict[str, Any]:
        run_targets = targets if targets else runner._graph_schema.target_names
        graph = dict(needed_graph(runner, tuple(run_targets)))
        if inputs:
            runner._add_inputs_to_graph(inputs, graph)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                f"Running graph with inputs: {inputs}, targets: {targets} "
                f"and {runner._execution_context}."
            )
        try:
            return dict(compute(graph, list(run_targets)))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    _run.in_one_pass = True  # type: ignore[attr-defined]
    return _run


def needed_graph(runner: DaskGraphRunner, targets: Tuple[str, ...]) -> Dict[str, Any]:
    """The dask graph of the nodes the targets need, built once per runner and targets."""
    graphs = runner.__dict__.setdefault("_shop_needed_graphs", {})
    graph = graphs.get(targets)
    if graph is None:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        graph = graphs[targets] = runner._build_dask_graph(schema)
    return graph


def install() -> None:
    """Makes `DaskGraphRunner.run` compute its graph in one pass (once)."""
    replace_once(DaskGraphRunner, "run", "in_one_pass", in_one_pass)
