"""The evaluation's figures and the deploy gate that reads them."""

import pytest

from bot.trainer.deploy import gate
from bot.trainer.evaluation import compare


def rows(*triples):
    return [
        {"text": f"t{n}", "intent": gold, "new": new, "serving": old}
        for n, (gold, new, old) in enumerate(triples)
    ]


def test_compare_gives_macro_f1_per_intent_figures_confusions_and_changes():
    result = compare(
        rows(
            ("greet", "greet", "greet"),
            ("greet", "greet", "thank"),  # fixed by the new model
            ("thank", "thank", "thank"),
            ("thank", "greet", "thank"),  # broken by the new model
            ("deny", "affirm", "deny"),
        )
    )
    assert result["size"] == 5
    assert result["serving"]["intents"]["deny"]["f1"] == 1.0
    assert result["new"]["intents"]["deny"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
    }
    assert result["diff"]["deny"] == -1.0
    assert result["new"]["macro_f1"] < result["serving"]["macro_f1"]
    changes = {(c["text"], c["change"]) for c in result["changed"]}
    assert changes == {("t1", "fixed"), ("t3", "broken"), ("t4", "broken")}
    assert {"intent": "thank", "predicted": "greet", "count": 1} in result["confused"]["new"]


def test_without_a_serving_model_there_is_nothing_to_compare():
    result = compare(rows(("greet", "greet", ""), ("thank", "thank", "")))
    assert result["serving"]["macro_f1"] is None and result["changed"] == []
    assert gate(result, 0.05).passed


def evaluation(new_f1, old_f1, diff):
    return {"new": {"macro_f1": new_f1}, "serving": {"macro_f1": old_f1}, "diff": diff}


def test_the_gate_opens_when_nothing_got_worse_beyond_the_allowed_drop():
    assert gate(evaluation(0.95, 0.95, {"greet": -0.05, "thank": 0.05}), 0.05).passed


@pytest.mark.parametrize(
    "case, codes",
    [
        (evaluation(0.949, 0.95, {"greet": 0.0}), ["macro_f1_lower"]),
        (evaluation(0.96, 0.95, {"greet": -0.06, "thank": 0.2}), ["intent_worse"]),
        (evaluation(0.90, 0.95, {"deny": -0.5}), ["macro_f1_lower", "intent_worse"]),
    ],
)
def test_the_gate_closes_with_its_reasons(case, codes):
    verdict = gate(case, 0.05)
    assert not verdict.passed
    assert [r["code"] for r in verdict.reasons] == codes
    worse = [r for r in verdict.reasons if r["code"] == "intent_worse"]
    assert all(r["change"] < -0.05 for r in worse)
