"""Replacing a method once (bot/speedups/patching.py)."""

import functools

from bot.speedups.patching import replace_once


class Shop:
    def greet(self):
        return "在吗"

    @staticmethod
    def rank(names):
        return sorted(names)


def louder(method):
    @functools.wraps(method)
    def wrapped(*args):
        return method(*args) + "!"

    wrapped.louder = True
    return wrapped


def reversed_rank(method):
    def wrapped(names):
        return method(names)[::-1]

    wrapped.reversed_rank = True
    return wrapped


def test_a_method_is_wrapped_once_however_often_it_is_asked():
    for _ in range(3):
        replace_once(Shop, "greet", "louder", louder)
    assert Shop().greet() == "在吗!"


def test_a_static_method_stays_static():
    for _ in range(2):
        replace_once(Shop, "rank", "reversed_rank", reversed_rank, static=True)
    assert Shop.rank(["b", "a", "c"]) == ["c", "b", "a"]
    assert Shop().rank(["b", "a"]) == ["b", "a"]
