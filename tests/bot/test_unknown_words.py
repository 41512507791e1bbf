from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normaliser import ChineseTextNormalizer
from bot.nlu.tokenizer import ShopJiebaTokenizer
from bot.nlu.unknown_words import UnknownWordsGuard

TRAINING = ["谢谢啦", "快递到哪了", "还有货吗", "thx 辛苦了"]


def tokenized(*texts):
    messages = [Message(data={"text": text}) for text in texts]
    ChineseTextNormalizer.create({}, None, None, None).process(messages)
    tokenizer = ShopJiebaTokenizer.create(
        {**ShopJiebaTokenizer.get_default_config(), "dictionary_path": "data/dicts"},
        None,
        None,
        None,
    )
    tokenizer.process(messages)
    return messages


def prepared(*texts, intent="thank", confidence=0.93):
    """Tokenized messages with DIET's prediction already set."""
    messages = tokenized(*texts)
    for message in messages:
        message.set("intent", {"name": intent, "confidence": confidence})
        message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return messages


def trained_guard(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unknown_words")
    context = ExecutionContext(graph_schema=None, model_id="test")
    guard = UnknownWordsGuard.create({}, storage, resource, context)
    guard.train(TrainingData(training_examples=tokenized(*TRAINING)))
    return UnknownWordsGuard.load({}, storage, resource, context)


def test_keyboard_mashing_becomes_fallback_with_the_ranking_kept(tmp_path):
    [message] = trained_guard(tmp_path).process(prepared("zxqv blorp"))
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "thank"]
    assert message.as_dict(only_output_properties=True)["unknown_words"] is True


def test_a_message_with_a_known_word_keeps_its_intent(tmp_path):
    [message] = trained_guard(tmp_path).process(prepared("謝謝 zxqv"))
    assert message.get("intent")["name"] == "thank"


def test_numbers_entities_and_button_payloads_are_left_alone(tmp_path):
    guard = trained_guard(tmp_path)
    digits, with_entity, payload = prepared("2024112300123", "blorp", "/greet")
    with_entity.set("entities", [{"entity": "product", "value": "blorp"}])
    guard.process([digits, with_entity, payload])
    assert [m.get("intent")["name"] for m in (digits, with_entity, payload)] == ["thank"] * 3


def test_mashing_the_fallback_classifier_already_caught_is_flagged_too(tmp_path):
    [message] = trained_guard(tmp_path).process(
        prepared("zxqv blorp", intent="nlu_fallback", confidence=0.4)
    )
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.4}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback"]
    assert message.as_dict(only_output_properties=True)["unknown_words"] is True
