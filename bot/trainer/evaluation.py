"""The new model against the serving one, in the same run, on the same examples.

`compare` is pure: given the gold intent and both models' predictions for every example of a
set, it gives each model's macro-F1 and per-intent precision, recall and F1 (scikit-learn's
report, as `rasa test nlu` computes it), the per-intent difference, the most confused pairs
and the examples whose prediction changed. `python -m bot.trainer.evaluation` (run by the
training job, so TensorFlow never enters the web app) parses the held-out set and the labelled
inbox messages with both models and writes the comparison as JSON.

Only the NLU part of each model is loaded (`NluParser`): the nodes of the model's own prediction
graph that Rasa's parse runs (`nlu_target` and what it needs), in one batch. Loading the whole
model as Rasa's `Agent` does would also build the dialogue policies' TensorFlow graphs, a minute
per model for readings the evaluation never uses.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

MOST_CONFUSED = 10
MOST_CHANGED = 200


def report(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
    """Macro-F1 and per-intent precision, recall, F1 and support of one model on one set."""
    from sklearn.metrics import classification_report

    if not gold:
        return {"macro_f1": None, "intents": {}}
    found = classification_report(gold, predicted, output_dict=True, zero_division=0)
    intents = {
        name: {
            "precision": round(v["precision"], 4),
            "recall": round(v["recall"], 4),
            "f1": round(v["f1-score"], 4),
            "support": int(v["support"]),
        }
        for name, v in found.items()
        if isinstance(v, dict) and name not in ("macro avg", "weighted avg", "micro avg")
    }
    return {"macro_f1": round(found["macro avg"]["f1-score"], 4), "intents": intents}


def confused_pairs(gold: Sequence[str], predicted: Sequence[str]) -> List[Dict[str, Any]]:
    """The most frequent (gold intent, predicted intent) mistakes."""
    pairs = collections.Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return [
        {"intent": g, "predicted": p, "count": n} for (g, p), n in pairs.most_common(MOST_CONFUSED)
    ]


def compare(examples: Sequence[Dict[str, str]]) -> Dict[str, Any]:
    """Compares two models on one set.

    Args:
        examples: `{"text", "intent", "new", "serving"}`: the gold intent and each model's
            prediction ("" for a serving model that could not be asked).

    Returns:
        `{"size", "new", "serving", "diff", "confused", "changed"}`: each model's report and
        confused pairs, the per-intent F1 difference (new minus serving) and the changed
        predictions, each marked `fixed`, `broken` or `other`.
    """
    gold = [e["intent"] for e in examples]
    new = [e["new"] for e in examples]
    serving = [e["serving"] for e in examples]
    has_serving = any(serving)
    new_report = report(gold, new)
    serving_report = report(gold, serving) if has_serving else {"macro_f1": None, "intents": {}}
    diff = {}
    for name in sorted(set(new_report["intents"]) | set(serving_report["intents"])):
        after = new_report["intents"].get(name, {}).get("f1", 0.0)
        before = serving_report["intents"].get(name, {}).get("f1", 0.0)
        diff[name] = round(after - before, 4)
    changed = []
    for e in examples:
        if has_serving and e["new"] != e["serving"]:
            kind = (
                "fixed"
                if e["new"] == e["intent"]
                else "broken"
                if e["serving"] == e["intent"]
                else "other"
            )
            changed.append({**e, "change": kind})
    return {
        "size": len(examples),
        "new": new_report,
        "serving": serving_report,
        "diff": diff,
        "confused": {
            "new": confused_pairs(gold, new),
            "serving": confused_pairs(gold, serving) if has_serving else [],
        },
        "changed": changed[:MOST_CHANGED],
        "changed_count": len(changed),
    }


def _heldout_examples(path: Path) -> List[Dict[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        {"text": m.get("text"), "intent": m.get("intent")}
        for m in data.intent_examples
        if m.get("text")
    ]


class NluParser:
    """The NLU part of a trained model, parsing as the Rasa server's `/model/parse` does."""

    def __init__(self, model: Path, storage: Path) -> None:
        """Unpacks the model into `storage` (an empty folder) and loads its NLU nodes only."""
        from rasa.engine.graph import ExecutionContext
        from rasa.engine.runner.dask import DaskGraphRunner
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        model_storage, metadata = LocalModelStorage.from_model_archive(storage, model)
        self._target = metadata.nlu_target
        schema = metadata.predict_schema.minimal_graph_schema([self._target])
        self._runner = DaskGraphRunner.create(
            graph_schema=schema,
            model_storage=model_storage,
            execution_context=ExecutionContext(graph_schema=schema, model_id=metadata.model_id),
        )

    def intents(self, texts: Sequence[str]) -> List[str]:
        """The intent each text is read as (`nlu_fallback` when the fallback takes it)."""
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY

        if not texts:
            return []
        found = self._runner.run(
            inputs={
                PLACEHOLDER_MESSAGE: [UserMessage(text) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker("evaluation", []),
            },
            targets=[self._target],
        )[self._target]
        return [str((m.get(INTENT) or {}).get(INTENT_NAME_KEY) or "") for m in found]


def _predict(model: Optional[str], texts: Sequence[str]) -> List[str]:
    if not model or not Path(model).exists():
        return ["" for _ in texts]
    with tempfile.TemporaryDirectory(prefix="trainer-eval-") as storage:
        return NluParser(Path(model), Path(storage)).intents(texts)


def evaluate(
    new: str, serving: Optional[str], sets: Dict[str, List[Dict[str, str]]]
) -> Dict[str, Any]:
    """Parses every set with both models and compares them, set by set."""
    texts = [e["text"] for examples in sets.values() for e in examples]
    new_predictions = _predict(new, texts)
    serving_predictions = _predict(serving, texts)
    result: Dict[str, Any] = {"new_model": Path(new).name, "serving_model": ""}
    if serving and Path(serving).exists():
        result["serving_model"] = Path(serving).name
    position = 0
    for name, examples in sets.items():
        rows = []
        for e in examples:
            rows.append(
                {
                    **e,
                    "new": new_predictions[position],
                    "serving": serving_predictions[position],
                }
            )
            position += 1
        result[name] = compare(rows)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    """Command line of the training job's evaluation step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", required=True)
    parser.add_argument("--serving", default="")
    parser.add_argument("--heldout", required=True)
    parser.add_argument("--inbox", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    sets = {"heldout": _heldout_examples(Path(args.heldout))}
    inbox_path = Path(args.inbox) if args.inbox else None
    if inbox_path is not None and inbox_path.exists():
        sets["inbox"] = json.loads(inbox_path.read_text(encoding="utf-8"))
    result = evaluate(args.new, args.serving or None, sets)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    print(
        "heldout macro-F1 new",
        result["heldout"]["new"]["macro_f1"],
        "serving",
        result["heldout"]["serving"]["macro_f1"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
