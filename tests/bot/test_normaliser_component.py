from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normaliser import ORIGINAL_TEXT, ChineseTextNormalizer


def component():
    return ChineseTextNormalizer.create({}, None, None, None)


def test_inference_text_is_normalised_and_original_kept():
    message = Message(data={"text": "還有貨嗎？？？😭"})
    component().process([message])
    assert message.get("text") == "还有货吗?   "
    assert message.get(ORIGINAL_TEXT) == "還有貨嗎？？？😭"
    assert message.as_dict(only_output_properties=True)[ORIGINAL_TEXT] == "還有貨嗎？？？😭"


def test_features_see_the_shop_word_a_homophone_typo_meant():
    message = Message(data={"text": "我的快地到那了 為號7598"})
    component().process([message])
    assert message.get("text") == "我的快递到哪了 尾号7598"
    assert message.get(ORIGINAL_TEXT) == "我的快地到那了 為號7598"


def test_button_payload_is_left_exact_for_the_intent_parser():
    payload = '/choose_persona{"persona":"crazy"}'
    message = Message(data={"text": payload})
    component().process([message])
    assert message.get("text") == payload


def test_processing_twice_changes_nothing():
    message = Message(data={"text": "ＸＬ有嗎"})
    component().process([message])
    component().process([message])
    assert message.get(ORIGINAL_TEXT) == "ＸＬ有嗎"
    assert message.get("text") == "xl有吗"


def test_training_entities_get_normalised_values_but_synonyms_stay():
    literal = {"entity": "product", "start": 2, "end": 5, "value": "連衣裙"}
    synonym = {"entity": "persona", "start": 0, "end": 3, "value": "crazy"}
    data = TrainingData(
        training_examples=[
            Message(
                data={"text": "這款連衣裙有貨嗎", "intent": "ask_stock", "entities": [literal]}
            ),
            Message(data={"text": "瘋癫組", "intent": "choose_persona", "entities": [synonym]}),
        ]
    )
    component().process_training_data(data)
    first, second = data.training_examples
    assert first.get("text") == "这款连衣裙有货吗"
    assert first.get("entities")[0]["value"] == "连衣裙"
    assert second.get("entities")[0]["value"] == "crazy"
