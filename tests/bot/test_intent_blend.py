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
