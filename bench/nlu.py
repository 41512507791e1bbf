"""NLU benchmark: training time, held-out and cross-validated F1, parse latency, baseline.

Prints figures only; `make bench` runs it. Figures go to bench/README.md and README.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

from rasa.core.agent import Agent  # noqa: E402
from rasa.model_training import train_nlu  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import classification_report, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from shop.text.normalise import normalise  # noqa: E402

FOLDS = int(os.environ.get("BENCH_FOLDS", "5"))
configure_structlog(logging.WARNING)  # per-message parse logs would drown the figures
Examples = List[Tuple[str, str]]


def examples(data: TrainingData) -> Examples:
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def train(data: TrainingData, workdir: Path) -> Tuple[Agent, float]:
    nlu_file = workdir / "nlu.yml"
    nlu_file.write_text(data.nlu_as_yaml(), encoding="utf-8")
    started = time.perf_counter()
    model = train_nlu("config.yml", str(nlu_file), str(workdir / "models"), domain="domain.yml")
    seconds = time.perf_counter() - started
    return Agent.load(model), seconds


def predict(agent: Agent, texts: List[str]) -> Tuple[List[str], List[float], List[float]]:
    """Top DIET intent (ignoring the fallback), its confidence, and parse latency in ms."""
    labels, confidences, latencies = [], [], []
    loop = asyncio.new_event_loop()
    for text in texts:
        started = time.perf_counter()
        parse = loop.run_until_complete(agent.parse_message(text))
        latencies.append((time.perf_counter() - started) * 1000)
        ranking = [r for r in parse["intent_ranking"] if r["name"] != "nlu_fallback"]
        labels.append(ranking[0]["name"])
        confidences.append(ranking[0]["confidence"])
    loop.close()
    return labels, confidences, latencies


def baseline(train_set: Examples, test_set: Examples) -> List[str]:
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x_train = vectorizer.fit_transform([normalise(t) for t, _ in train_set])
    model = LinearSVC(C=1.0).fit(x_train, [i for _, i in train_set])
    return list(model.predict(vectorizer.transform([normalise(t) for t, _ in test_set])))


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def threshold_table(truth: List[str], labels: List[str], confidences: List[float]) -> None:
    print("\nFallback threshold (held-out): kept-correct / caught-wrong")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        right = [c for t, p, c in zip(truth, labels, confidences, strict=False) if t == p]
        wrong = [c for t, p, c in zip(truth, labels, confidences, strict=False) if t != p]
        kept = sum(c >= threshold for c in right) / max(1, len(right))
        caught = sum(c < threshold for c in wrong) / max(1, len(wrong))
        print(
            f"  {threshold:.1f}: {kept:6.1%} of {len(right)} correct kept, "
            f"{caught:6.1%} of {len(wrong)} wrong sent to fallback"
        )


def cross_validate(data: TrainingData) -> Tuple[float, float]:
    items = data.intent_examples
    intents = [m.get("intent") for m in items]
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=1)
    diet_scores, svm_scores = [], []
    for number, (train_idx, test_idx) in enumerate(folds.split(items, intents), start=1):
        fold_train = TrainingData(
            training_examples=[items[i] for i in train_idx],
            entity_synonyms=data.entity_synonyms,
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
        )
        test_set = [(items[i].get("text"), intents[i]) for i in test_idx]
        with tempfile.TemporaryDirectory() as workdir:
            agent, _ = train(fold_train, Path(workdir))
            labels, _, _ = predict(agent, [t for t, _ in test_set])
        truth = [i for _, i in test_set]
        diet_scores.append(f1_score(truth, labels, average="macro"))
        svm = baseline(examples(fold_train), test_set)
        svm_scores.append(f1_score(truth, svm, average="macro"))
        print(
            f"  fold {number}: DIET {diet_scores[-1]:.3f}  baseline {svm_scores[-1]:.3f}",
            flush=True,
        )
    return statistics.mean(diet_scores), statistics.mean(svm_scores)


def main() -> None:
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    data = load_data("data/nlu")
    heldout = examples(load_data("tests/nlu/heldout.yml"))
    truth = [i for _, i in heldout]
    print(f"training examples: {len(data.intent_examples)}, held-out: {len(heldout)}")
    with tempfile.TemporaryDirectory() as workdir:
        agent, seconds = train(data, Path(workdir))
        print(f"NLU training time: {seconds:.0f} s")
        labels, confidences, latencies = predict(agent, [t for t, _ in heldout])
    diet_f1 = f1_score(truth, labels, average="macro")
    svm_f1 = f1_score(truth, baseline(examples(data), heldout), average="macro")
    print(
        f"held-out intent macro-F1: DIET {diet_f1:.3f}  baseline (char TF-IDF + LinearSVC) "
        f"{svm_f1:.3f}  ratio {diet_f1 / svm_f1:.3f}"
    )
    print(
        f"parse latency per message: p50 {percentile(latencies, 0.5):.1f} ms  "
        f"p95 {percentile(latencies, 0.95):.1f} ms"
    )
    report: Dict = classification_report(truth, labels, output_dict=True, zero_division=0)
    print("\nper-intent F1 (held-out, DIET):")
    for name in sorted(set(truth), key=lambda n: report[n]["f1-score"]):
        print(f"  {report[name]['f1-score']:.3f}  {name}")
    threshold_table(truth, labels, confidences)
    if FOLDS > 1:
        print(f"\n{FOLDS}-fold cross-validation on the training data:")
        diet_cv, svm_cv = cross_validate(data)
        print(f"cross-validated intent macro-F1: DIET {diet_cv:.3f}  baseline {svm_cv:.3f}")


if __name__ == "__main__":
    main()
