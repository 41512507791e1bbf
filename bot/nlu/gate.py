"""Fails when the intent macro-F1 of a ``rasa test nlu`` report is below a bar.

Usage: ``python -m bot.nlu.gate results/nlu/intent_report.json --min-macro-f1 0.90``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

SUMMARY_KEYS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def per_intent_f1(report: Dict[str, Dict]) -> Dict[str, float]:
    """The F1 score of every intent in a Rasa intent report."""
    return {
        name: scores["f1-score"]
        for name, scores in report.items()
        if name not in SUMMARY_KEYS and isinstance(scores, dict)
    }


def main(argv: List[str] | None = None) -> int:
    """Prints macro-F1 and the weakest intents; returns 1 below the bar."""
    parser = argparse.ArgumentParser(description="Gate on intent macro-F1.")
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-macro-f1", type=float, default=0.90)
    parser.add_argument("--show", type=int, default=8, help="weakest intents to print")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    macro = report["macro avg"]["f1-score"]
    scores = per_intent_f1(report)
    print(f"intent macro-F1 {macro:.3f} over {len(scores)} intents (bar {args.min_macro_f1:.2f})")
    for name, f1 in sorted(scores.items(), key=lambda item: item[1])[: args.show]:
        print(f"  {f1:.3f}  {name}")
    return 0 if macro >= args.min_macro_f1 else 1


if __name__ == "__main__":
    sys.exit(main())
