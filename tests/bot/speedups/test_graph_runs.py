"""Rasa's model graph computed in one pass (bot/speedups/graph_runs.py): what dask computes.

Random graphs of the shape Rasa builds (tasks naming the tasks they need, input values as
plain tuples) and of dask's other shapes (literal arguments, lists, nested tasks, names that are
not in the graph): the same results as `dask.get`, and each task run exactly as often.
"""

import collections
import random

import dask
import pytest
from rasa.engine.runner.dask import DaskGraphRunner

from bot.speedups import graph_runs
from tests.bot.rasa_methods import installed_once, rasa_original

RASA_RUN = rasa_original(DaskGraphRunner, "run", "in_one_pass")


class Node:
    """A graph node that returns (its name, what it got), counting its calls."""

    def __init__(self, name, calls):
        self.name, self.calls = name, calls

    def __call__(self, *inputs):
        self.calls[self.name] += 1
        return (self.name, inputs)


def random_graph(randomly, calls):
    graph = {f"input_{n}": (f"input_{n}", randomly.random()) for n in range(3)}
    names = list(graph)
    for n in range(randomly.randint(3, 14)):
        name = f"node_{n}"
        arguments = []
        for _ in range(randomly.randint(0, 4)):
            roll = randomly.random()
            if roll < 0.6:
                arguments.append(randomly.choice(names))
            elif roll < 0.7:
                arguments.append([randomly.choice(names), 7])
            elif roll < 0.8:
                arguments.append((Node(f"inner_{n}", calls), randomly.choice(names)))
            elif roll < 0.9:
                arguments.append("not_a_node")
            else:
                arguments.append(randomly.randint(0, 9))
        graph[name] = (Node(name, calls), *arguments)
        names.append(name)
    return graph, names


def test_the_results_and_calls_of_dask_on_random_graphs():
    randomly = random.Random(13)
    compared = 0
    for _ in range(300):
        seed = randomly.random()
        outcomes = []
        for compute in (dask.get, graph_runs.compute):
            calls = collections.Counter()
            graph, names = random_graph(random.Random(seed), calls)
            targets = random.Random(seed).sample(names, k=random.Random(seed).randint(1, 4))
            outcomes.append((repr(compute(graph, targets)), dict(calls)))
        assert outcomes[0] == outcomes[1]
        compared += 1
    assert compared == 300


def test_an_error_in_a_node_comes_out_as_it_is():
    def broken(*_):
        raise ValueError("component failed")

    graph = {"a": ("a", 1), "b": (broken, "a")}
    with pytest.raises(ValueError, match="component failed"):
        graph_runs.compute(graph, ["b"])


def test_installed_once(monkeypatch):
    [run] = installed_once(monkeypatch, graph_runs.install, DaskGraphRunner, {"run": RASA_RUN})
    assert run.in_one_pass
