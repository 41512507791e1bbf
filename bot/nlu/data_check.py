"""Checks NLU training data the way trainers need it checked.

Run ``python -m bot.nlu.data_check [files or folders ...]`` to print every
problem: entity annotations that do not fall on jieba token boundaries,
examples that are duplicates after normalisation, and intents with too few
examples. Exits non-zero when there is a problem.
"""

from __future__ import annotations

import argparse
import collections
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from shop.text.normalise import normalise, to_simplified
from shop.text.segment import dedup_key, load_user_dictionaries, segments

DICTS = Path(__file__).resolve().parents[2] / "data" / "dicts"


@dataclass
class Report:
    """What a check found."""

    misaligned: List[str] = field(default_factory=list)
    duplicates: List[str] = field(default_factory=list)
    format_warnings: List[str] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=dict)
    traditional_share: float = 0.0

    def too_few(self, minimum: int) -> List[str]:
        """Intents with fewer than ``minimum`` examples."""
        return [f"{name}: {n}" for name, n in sorted(self.counts.items()) if n < minimum]


def load_examples(paths: Iterable[str]) -> List[Message]:
    """Loads the intent examples of NLU files or folders."""
    examples: List[Message] = []
    for path in paths:
        data = load_data(str(path))
        examples.extend(m for m in data.intent_examples if m.get("text"))
    return examples


def _load_recording_warnings(paths: Iterable[str], report: "Report") -> List[Message]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        examples = load_examples(paths)
    report.format_warnings.extend(
        str(w.message).splitlines()[0] for w in caught if issubclass(w.category, UserWarning)
    )
    return examples


def misaligned_entities(message: Message) -> List[str]:
    """Describes each entity of an example that splits a jieba token."""
    text = message.get("text")
    normalised = normalise(text)
    starts = {start for _, start, _ in segments(normalised)}
    ends = {end for _, _, end in segments(normalised)}
    problems = []
    for entity in message.get("entities") or []:
        if entity["start"] not in starts or entity["end"] not in ends:
            tokens = " | ".join(word for word, _, _ in segments(normalised))
            span = text[entity["start"] : entity["end"]]
            problems.append(f"{text!r}: {entity['entity']}={span!r} vs tokens [{tokens}]")
    return problems


def check(paths: Iterable[str]) -> Report:
    """Checks the examples under the given paths."""
    load_user_dictionaries(str(DICTS))
    report = Report()
    examples = _load_recording_warnings(paths, report)
    seen: Dict[str, str] = {}
    traditional = 0
    counts: Dict[str, int] = collections.Counter()
    for message in examples:
        text = message.get("text")
        counts[message.get("intent")] += 1
        traditional += to_simplified(text) != text
        report.misaligned.extend(misaligned_entities(message))
        key = dedup_key(text)
        if key in seen:
            report.duplicates.append(f"{text!r} duplicates {seen[key]!r}")
        else:
            seen[key] = text
    report.counts = dict(counts)
    report.traditional_share = traditional / len(examples) if examples else 0.0
    return report


def main(argv: List[str] | None = None) -> int:
    """Prints the report for the given paths; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["data/nlu"])
    parser.add_argument("--min-examples", type=int, default=40)
    args = parser.parse_args(argv)
    report = check(args.paths)
    for name, count in sorted(report.counts.items()):
        print(f"{count:5d}  {name}")
    print(f"Traditional share: {report.traditional_share:.0%}")
    problems = (
        report.format_warnings
        + report.misaligned
        + report.duplicates
        + report.too_few(args.min_examples)
    )
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
