"""A conversation saved as a test story: the trainer's labels, only what the bot predicted."""

import pytest

from bot.trainer import stories
from bot.trainer.labels import LabelRefused
from bot.trainer.workspace import Workspace
from tests.bot.trainer.test_inbox import T0, user

EXISTING = """version: "3.1"
# hand-written stories stay as they are
stories:
- story: greet is answered  # a comment on the story
  steps:
  - intent: greet
  - action: utter_greet
"""


def action(name, at):
    return {"event": "action", "name": name, "timestamp": at}


def conversation():
    """An old session, then: greet, a misread message, an agent's message, a notice."""
    return [
        user("旧的会话", [("ask_stock", 0.9)], T0 - 100),
        {"event": "session_started", "timestamp": T0},
        action("action_listen", T0),
        user("亲在吗", [("greet", 0.99)], T0 + 1),
        action("utter_greet", T0 + 2),
        {"event": "bot", "text": "您好", "timestamp": T0 + 2},
        action("action_listen", T0 + 2),
        user("这件羽绒服可以走顺丰不", [("ask_free_shipping", 0.41)], T0 + 3),
        action("utter_free_shipping", T0 + 4),
        action("action_listen", T0 + 4),
        {
            "event": "bot",
            "text": "我是客服小李",
            "timestamp": T0 + 5,
            "metadata": {"sender": "agent"},
        },
        user("EXTERNAL_price_drop", [("EXTERNAL_price_drop", 1.0)], T0 + 6),
        action("action_notify_price_drop", T0 + 6),
        action("action_listen", T0 + 6),
    ]


def labels_for(texts):
    return {"这件羽绒服可以走顺丰不": "ask_delivery_time"}.get


def test_the_story_has_the_trainers_label_and_only_what_the_bot_predicted():
    name = stories.story_name("c-1", "trainer", T0)
    story = stories.build_story("c-1", conversation(), labels_for(None), name)
    assert story["story"] == "conversation c-1 saved by trainer 2027-01-15"
    steps = [dict(step) for step in story["steps"]]
    assert steps == [
        {"intent": "greet", "user": "亲在吗"},
        {"action": "utter_greet"},
        {"intent": "ask_delivery_time", "user": "这件羽绒服可以走顺丰不"},
        {"action": "utter_free_shipping"},
    ]


def test_saving_appends_and_keeps_the_files_other_stories_and_comments(tmp_path):
    path = Workspace(tmp_path, tmp_path / "state", tmp_path / "models").saved_stories
    lock_dir = tmp_path
    story = stories.build_story("c-1", conversation(), labels_for(None), "conversation c-1")
    stories.append_story(path, story, lock_dir)  # a new file gets the header
    first = path.read_text("utf-8")
    assert first.startswith('version: "3.1"\nstories:\n- story: conversation c-1\n')

    path.write_text(EXISTING, encoding="utf-8")
    stories.append_story(path, story, lock_dir)
    written = path.read_text("utf-8")
    assert written.startswith(EXISTING)
    assert "  - intent: ask_delivery_time\n    user: |-\n      这件羽绒服可以走顺丰不\n" in written
    with pytest.raises(LabelRefused) as again:
        stories.append_story(path, story, lock_dir)
    assert again.value.code == "already_saved" and path.read_text("utf-8") == written

    path.write_text("stories: [unclosed\n", encoding="utf-8")
    with pytest.raises(LabelRefused) as broken:
        stories.append_story(path, story, lock_dir)
    assert broken.value.code == "broken_file"
    assert path.read_text("utf-8") == "stories: [unclosed\n"


def test_a_conversation_without_a_customer_message_is_refused():
    only_notice = [
        {"event": "session_started", "timestamp": T0},
        action("action_listen", T0),
        user("EXTERNAL_price_drop", [("EXTERNAL_price_drop", 1.0)], T0 + 1),
        action("action_notify_price_drop", T0 + 1),
    ]
    for events in (only_notice, conversation()[:1] + only_notice):
        with pytest.raises(LabelRefused) as refused:
            stories.build_story("c-9", events, labels_for(None), "conversation c-9")
        assert refused.value.code == "no_customer_message"


def test_turns_an_agent_answered_and_corrections_replay_as_rasa_does():
    corrected = user(
        "这件羽绒服可以走顺丰不",
        [("ask_delivery_time", 1.0)],
        T0 + 5,
        metadata={"assist_corrected_from": "ask_free_shipping", "assist_agent": "agent"},
    )
    events = conversation()[1:10] + [
        {"event": "rewind", "timestamp": T0 + 5},
        corrected,
        action("utter_delivery_time", T0 + 5),
        action("action_listen", T0 + 5),
        {"event": "pause", "timestamp": T0 + 6},
        user("我要退款", [("request_refund", 0.9)], T0 + 7),
        {"event": "bot", "text": "好的", "timestamp": T0 + 8, "metadata": {"sender": "agent"}},
        {"event": "resume", "timestamp": T0 + 9},
    ]
    story = stories.build_story("c-1", events, {}.get, "conversation c-1")
    assert [dict(step) for step in story["steps"]][2:] == [
        {"intent": "ask_delivery_time", "user": "这件羽绒服可以走顺丰不"},
        {"action": "utter_delivery_time"},
    ]
