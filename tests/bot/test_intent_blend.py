import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.ensemble import IntentBlend, blend, digit_shape
from bot.nlu.normaliser import ChineseTextNormalizer

EXAMPLES = {
    "track_logistics": [
        "快递到哪了",
        "物流怎么不动了",
        "包裹到哪里了",
        "快递三天没更新",
        "单号12345",
    ],
    "request_return": ["我要退货", "这个想退掉", "申请退货退款", "不想要了能退吗"],
    "greet": ["你好", "在吗", "亲在不在", "哈喽"],
}


def normalised(*texts):
    messages = [Message(data={"text": text}) for text in texts]
    return ChineseTextNormalizer.create({}, None, None, None).process(messages)


def trained(tmp_path, **config):
    tmp_path.mkdir(exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent_blend")
    context = ExecutionContext(graph_schema=None, model_id="test")
    examples = []
    for intent, texts in EXAMPLES.items():
        for message in normalised(*texts):
            message.set("intent", intent)
            examples.append(message)
    IntentBlend.create(config, storage, resource, context).train(
        TrainingData(training_examples=examples)
    )
    return IntentBlend.load(config, storage, resource, context)


def test_blend_weighs_both_rankings_and_keeps_intents_only_one_knows():
    first = [{"name": "greet", "confidence": 0.8}, {"name": "thank", "confidence": 0.2}]
    ranking = blend(first, {"greet": 0.2, "chitchat": 0.8}, weight=0.5)
    assert [r["name"] for r in ranking] == ["greet", "chitchat", "thank"]
    assert [r["confidence"] for r in ranking] == pytest.approx([0.5, 0.4, 0.1])


def test_without_diet_before_it_the_regression_decides_after_a_reload(tmp_path):
    blend_component = trained(tmp_path)
    [typo, traditional] = blend_component.process(normalised("快滴到哪了", "我要退貨"))
    assert typo.get("intent")["name"] == "track_logistics"
    assert traditional.get("intent")["name"] == "request_return"
    ranking = traditional.get("intent_ranking")
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_diets_ranking_moves_the_blend_by_its_weight(tmp_path):
    text = "在吗 快递到哪了"
    [alone] = trained(tmp_path / "a").process(normalised(text))
    [message] = normalised(text)
    message.set("intent_ranking", [{"name": "greet", "confidence": 1.0}])
    [leaning] = trained(tmp_path / "b", diet_weight=0.9).process([message])
    assert leaning.get("intent")["name"] == "greet"
    linear_greet = next(r for r in alone.get("intent_ranking") if r["name"] == "greet")
    blended_greet = next(r for r in leaning.get("intent_ranking") if r["name"] == "greet")
    assert blended_greet["confidence"] == pytest.approx(0.9 + 0.1 * linear_greet["confidence"])


def test_numbers_count_by_their_length_not_their_digits(tmp_path):
    assert digit_shape("订单2026120712345 尾号4245 身高170") == "订单0000000000000 尾号0000 身高000"
    component = trained(tmp_path)
    readings = component.process(
        normalised("订单2026120711111到哪了", "订单2026120799999到哪了", "订单2026120754321到哪了")
    )
    rankings = [message.get("intent_ranking") for message in readings]
    assert rankings[0] == rankings[1] == rankings[2]
    assert readings[0].get("intent")["name"] == "track_logistics"


MESSAGES = (
    "快滴到哪了",
    "我要退貨",
    "订单2026120711111到哪了",
    "在吗 快递到哪了",
    "不想要了",
    "哈喽 包裹呢",
    "完全没见过的句子",
    "",
)


def test_the_loaded_model_gives_the_trained_ones_probabilities(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent_blend")
    context = ExecutionContext(graph_schema=None, model_id="test")
    examples = []
    for intent, texts in EXAMPLES.items():
        for message in normalised(*texts):
            message.set("intent", intent)
            examples.append(message)
    fitted = IntentBlend.create({}, storage, resource, context)
    fitted.train(TrainingData(training_examples=examples))
    loaded = IntentBlend.load({}, storage, resource, context)
    for before, after in zip(
        fitted.process(normalised(*MESSAGES)), loaded.process(normalised(*MESSAGES)), strict=True
    ):
        ranking, reloaded = before.get("intent_ranking"), after.get("intent_ranking")
        assert [r["name"] for r in reloaded] == [r["name"] for r in ranking]
        assert [r["confidence"] for r in reloaded] == pytest.approx(
            [r["confidence"] for r in ranking], abs=1e-9, rel=0
        )


def test_the_model_is_stored_as_plain_arrays_that_load_without_pickle(tmp_path):
    trained(tmp_path)
    [model_dir] = {path.parent for path in tmp_path.rglob("intent_blend.npz")}
    assert sorted(path.name for path in model_dir.iterdir()) == [
        "intent_blend.json",
        "intent_blend.npz",
    ]
    with np.load(model_dir / "intent_blend.npz", allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["classes", "coef", "idf", "intercept", "terms"]
        assert sorted(arrays["classes"].tolist()) == sorted(EXAMPLES)
        assert arrays["coef"].shape == (len(EXAMPLES), len(arrays["terms"]))


def test_a_model_trained_before_the_arrays_still_loads_from_its_skops_file(tmp_path):
    import skops.io as sio

    fitted = trained(tmp_path / "new")
    (tmp_path / "old").mkdir()
    storage = LocalModelStorage(tmp_path / "old")
    resource = Resource("intent_blend")
    with storage.write_to(resource) as model_dir:
        sio.dump(fitted._model, model_dir / "intent_blend.skops")
    context = ExecutionContext(graph_schema=None, model_id="test")
    legacy = IntentBlend.load({}, storage, resource, context)
    [old] = legacy.process(normalised("快滴到哪了"))
    [new] = fitted.process(normalised("快滴到哪了"))
    assert old.get("intent_ranking") == new.get("intent_ranking")
