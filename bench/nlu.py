"""NLU benchmark: candidate pipelines against a plain baseline, in one run.

For `config.yml` and every candidate in `bench/nlu_candidates/`, trains on `data/nlu/` and
prints training time, intent macro-F1 on both held-out sets (`tests/nlu/heldout.yml`, written
like the training data, and `tests/nlu/realistic.yml`, written the way shoppers type), the share
with the right intent in the top 3, the share sent to the fallback, parse latency, entity F1 per
entity and k-fold cross-validated macro-F1, beside a character TF-IDF + LinearSVC baseline on the
same normalised text. Then the fallback-threshold table of the configured pipeline.

Environment: ``BENCH_FOLDS`` (default 5; 0 skips cross-validation), ``BENCH_CV_MAX_SECONDS``
(default 300: a pipeline whose one training took longer is not cross-validated), ``BENCH_CANDIDATES``
(comma-separated names, e.g. ``config,blend20``; default all). Prints figures only; `make bench`
runs it; figures go to bench/README.md and README.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
# every pipeline trains from scratch: Rasa's training cache would restore shared components
os.environ["RASA_MAX_CACHE_SIZE"] = "0"

from rasa.core.agent import Agent  # noqa: E402
from rasa.model_training import train_nlu  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import classification_report, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from shop.text.normalise import normalise  # noqa: E402

FOLDS = int(os.environ.get("BENCH_FOLDS", "5"))
# pipelines whose one training took longer are not cross-validated (FOLDS trainings each)
CV_MAX_SECONDS = float(os.environ.get("BENCH_CV_MAX_SECONDS", "300"))
CANDIDATE_DIR = ROOT / "bench" / "nlu_candidates"
HELD_OUT = {"held-out": "tests/nlu/heldout.yml", "realistic": "tests/nlu/realistic.yml"}
FALLBACK = "nlu_fallback"
configure_structlog(logging.WARNING)  # per-message parse logs would drown the figures
logging.getLogger("rasa").setLevel(logging.ERROR)


@dataclass
class Parsed:
    """What a pipeline made of one test set."""

    top: List[str] = field(default_factory=list)  # best intent other than the fallback
    top3: List[List[str]] = field(default_factory=list)
    confidence: List[float] = field(default_factory=list)
    fell_back: List[bool] = field(default_factory=list)
    entities: List[Set[Tuple[str, str]]] = field(default_factory=list)
    latency_ms: List[float] = field(default_factory=list)


def entity_pairs(entities: List[Dict]) -> Set[Tuple[str, str]]:
    """(name, value) pairs, the value normalised as the pipeline reads it ("XL" is "xl")."""
    return {(e["entity"], normalise(str(e["value"]))) for e in entities or []}


def annotated_entities(message: Message) -> Set[Tuple[str, str]]:
    return entity_pairs(message.get("entities"))


def train(config: Path, data: TrainingData, workdir: Path) -> Tuple[Agent, float]:
    nlu_file = workdir / "nlu.yml"
    nlu_file.write_text(data.nlu_as_yaml(), encoding="utf-8")
    # Rasa writes the defaults it fills in back into the config file: train from a copy
    config_copy = workdir / "config.yml"
    shutil.copyfile(config, config_copy)
    started = time.perf_counter()
    model = train_nlu(str(config_copy), str(nlu_file), str(workdir / "models"), domain="domain.yml")
    return Agent.load(model), time.perf_counter() - started


def parse_all(agent: Agent, texts: List[str]) -> Parsed:
    parsed = Parsed()
    loop = asyncio.new_event_loop()
    for text in texts:
        started = time.perf_counter()
        result = loop.run_until_complete(agent.parse_message(text))
        parsed.latency_ms.append((time.perf_counter() - started) * 1000)
        ranking = [r for r in result["intent_ranking"] if r["name"] != FALLBACK]
        parsed.top.append(ranking[0]["name"] if ranking else FALLBACK)
        parsed.confidence.append(ranking[0]["confidence"] if ranking else 0.0)
        parsed.top3.append([r["name"] for r in ranking[:3]])
        parsed.fell_back.append(result["intent"]["name"] == FALLBACK)
        parsed.entities.append(entity_pairs(result["entities"]))
    loop.close()
    return parsed


def baseline(train_set: List[Message], texts: List[str]) -> Tuple[List[str], List[List[str]]]:
    """Character 1–3-gram TF-IDF + LinearSVC: its labels and top-3 per text."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    x_train = vectorizer.fit_transform([normalise(m.get("text")) for m in train_set])
    model = LinearSVC(C=1.0).fit(x_train, [m.get("intent") for m in train_set])
    scores = model.decision_function(vectorizer.transform([normalise(t) for t in texts]))
    top3 = [[model.classes_[i] for i in row.argsort()[::-1][:3]] for row in scores]
    return [row[0] for row in top3], top3


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def top3_share(truth: List[str], top3: List[List[str]]) -> float:
    return sum(t in row for t, row in zip(truth, top3, strict=True)) / max(1, len(truth))


def entity_f1(truth: List[Set[Tuple[str, str]]], found: List[Set[Tuple[str, str]]]) -> Dict:
    """F1 per entity name over (name, value) pairs."""
    hits, expected, predicted = Counter(), Counter(), Counter()
    for want, got in zip(truth, found, strict=True):
        for name, _ in want:
            expected[name] += 1
        for name, _ in got:
            predicted[name] += 1
        for name, _ in want & got:
            hits[name] += 1
    scores = {}
    for name in sorted(expected):
        precision = hits[name] / predicted[name] if predicted[name] else 0.0
        recall = hits[name] / expected[name]
        total = precision + recall
        scores[name] = (2 * precision * recall / total if total else 0.0, expected[name])
    return scores


def cross_validate(config: Optional[Path], data: TrainingData) -> float:
    """Mean macro-F1 over the folds; ``config`` None is the baseline."""
    items = data.intent_examples
    intents = [m.get("intent") for m in items]
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=1)
    scores = []
    for train_idx, test_idx in folds.split(items, intents):
        fold_train = [items[i] for i in train_idx]
        texts = [items[i].get("text") for i in test_idx]
        truth = [intents[i] for i in test_idx]
        if config is None:
            labels, _ = baseline(fold_train, texts)
        else:
            fold_data = TrainingData(
                training_examples=fold_train,
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
            )
            with tempfile.TemporaryDirectory() as workdir:
                agent, _ = train(config, fold_data, Path(workdir))
                labels = parse_all(agent, texts).top
        scores.append(f1_score(truth, labels, average="macro"))
    return statistics.mean(scores)


def threshold_table(truth: List[str], parsed: Parsed) -> None:
    """Per fallback threshold: correct readings kept, wrong ones caught, share of all sent."""
    print(
        "\nFallback threshold (realistic set, configured pipeline, top confidence only):"
        " kept-correct / caught-wrong / all sent to the fallback"
    )
    pairs = list(zip(truth, parsed.top, parsed.confidence, strict=True))
    right = [c for t, p, c in pairs if t == p]
    wrong = [c for t, p, c in pairs if t != p]
    for threshold in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6):
        kept = sum(c >= threshold for c in right) / max(1, len(right))
        caught = sum(c < threshold for c in wrong) / max(1, len(wrong))
        sent = sum(c < threshold for c in parsed.confidence) / max(1, len(pairs))
        print(
            f"  {threshold:.2f}: {kept:6.1%} of {len(right)} correct kept, "
            f"{caught:6.1%} of {len(wrong)} wrong caught, {sent:6.1%} of all sent"
        )


def candidates() -> Dict[str, Path]:
    found = {"config": ROOT / "config.yml"}
    found.update({path.stem: path for path in sorted(CANDIDATE_DIR.glob("*.yml"))})
    wanted = os.environ.get("BENCH_CANDIDATES")
    if wanted:
        names = [name.strip() for name in wanted.split(",") if name.strip()]
        found = {name: found[name] for name in names}
    return found


def main() -> None:
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    data = load_data("data/nlu")
    sets = {name: load_data(path).intent_examples for name, path in HELD_OUT.items()}
    truths = {name: [m.get("intent") for m in msgs] for name, msgs in sets.items()}
    texts = {name: [m.get("text") for m in msgs] for name, msgs in sets.items()}
    sizes = ", ".join(f"{name} {len(msgs)}" for name, msgs in sets.items())
    print(f"training examples: {len(data.intent_examples)}; test sets: {sizes}\n")

    header = f"{'pipeline':<12}{'train s':>8}"
    for name in sets:
        header += f"{name + ' F1':>15}"
    header += f"{'top-3':>8}{'fallback':>10}{'CV F1':>8}{'p50 ms':>8}{'p95 ms':>8}"
    print("(top-3 and fallback on the realistic set)")
    print(header, flush=True)
    base_scores: Dict[str, float] = {}
    row = f"{'baseline':<12}{'':>8}"
    for name in sets:
        labels, top3 = baseline(data.intent_examples, texts[name])
        base_scores[name] = f1_score(truths[name], labels, average="macro")
        row += f"{base_scores[name]:>15.3f}"
    base_scores["top3"] = top3_share(truths["realistic"], top3)
    base_scores["cv"] = cross_validate(None, data) if FOLDS > 1 else float("nan")
    print(row + f"{base_scores['top3']:>8.3f}{'':>10}{base_scores['cv']:>8.3f}", flush=True)

    configured: Optional[Parsed] = None
    entity_rows: Dict[str, Dict] = {}
    for label, config in candidates().items():
        with tempfile.TemporaryDirectory() as workdir:
            agent, seconds = train(config, data, Path(workdir))
            results = {name: parse_all(agent, texts[name]) for name in sets}
        row = f"{label:<12}{seconds:>8.0f}"
        for name in sets:
            score = f1_score(truths[name], results[name].top, average="macro")
            row += f"{score:>8.3f} ×{score / base_scores[name]:<5.2f}"
        real = results["realistic"]
        fallback = sum(real.fell_back) / len(real.fell_back)
        latencies = [ms for name in sets for ms in results[name].latency_ms]
        cv = cross_validate(config, data) if FOLDS > 1 and seconds <= CV_MAX_SECONDS else None
        cv_text = f"{cv:>8.3f}" if cv is not None else f"{'–':>8}"
        row += f"{top3_share(truths['realistic'], real.top3):>8.3f}{fallback:>10.1%}{cv_text}"
        row += f"{percentile(latencies, 0.5):>8.1f}{percentile(latencies, 0.95):>8.1f}"
        print(row, flush=True)
        entity_rows[label] = entity_f1(
            [annotated_entities(m) for name in sets for m in sets[name]],
            [found for name in sets for found in results[name].entities],
        )
        if label == "config":
            configured = real

    print("\nentity F1 on both test sets (examples)")
    for label, scores in entity_rows.items():
        print(f"  {label:<12}" + "  ".join(f"{n} {f:.2f} ({c})" for n, (f, c) in scores.items()))
    if configured is not None:
        report: Dict = classification_report(
            truths["realistic"], configured.top, output_dict=True, zero_division=0
        )
        print("\nweakest intents on the realistic set (configured pipeline, F1):")
        weakest = sorted(set(truths["realistic"]), key=lambda n: report[n]["f1-score"])[:8]
        print("  " + ", ".join(f"{n} {report[n]['f1-score']:.2f}" for n in weakest))
        threshold_table(truths["realistic"], configured)


if __name__ == "__main__":
    main()
