"""The queue's classification, the transcript and the mode switch, from tracker events."""

import pytest

from actions.identity import sign_customer_id
from bot.agent import conversations, modes
from bot.agent.accounts import StaffSession

KEY = "agent-test-key"


def user(text, intent, t, confidence=0.9, entities=(), metadata=None):
    return {
        "event": "user",
        "timestamp": t,
        "text": text,
        "metadata": metadata or {},
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [dict(e) for e in entities],
        },
    }


def bot(text, t, metadata=None):
    return {"event": "bot", "timestamp": t, "text": text, "data": {}, "metadata": metadata or {}}


def slot(name, value, t):
    return {"event": "slot", "timestamp": t, "name": name, "value": value}


def staff(username="agent", role="agent", name="客服小蜜"):
    return StaffSession(1, username, name, role, 5000, "n" * 32, 0)


START = [
    {"event": "action", "timestamp": 1.0, "name": "action_session_start"},
    {"event": "session_started", "timestamp": 1.0},
]


def test_customer_asking_for_a_person_is_queued_with_reason_and_waiting_time():
    events = START + [
        user("/greet", "greet", 2.0),
        bot("您好", 2.1),
        user("转人工", "request_human", 10.0),
        slot("handoff_reason", "customer_request", 10.1),
    ]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.needs_human and summary.reasons == ["customer_request"]
    assert summary.waiting_since == 10.0
    assert summary.as_dict(now=70.0)["waiting_seconds"] == 60
    assert summary.last_customer_text == "转人工"  # the widget's /greet is not a customer text


def test_each_reason_is_recognised_and_ordered_by_urgency():
    events = START + [
        user("啥", "nlu_fallback", 2.0, 0.2),
        user("嗯嗯啊", "nlu_fallback", 3.0, 0.1),
        user("我要投诉", "complain", 4.0),
        slot("handoff_reason", "compensation_above_limit", 5.0),
        slot("handoff_reason", "system_error", 6.0),
    ]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.reasons == [
        "system_error",
        "compensation_above_limit",
        "complaint",
        "repeated_fallback",
    ]
    assert summary.waiting_since == 3.0  # the second fallback, the earliest reason


def test_one_fallback_or_ordinary_questions_need_no_person():
    events = START + [user("啥", "nlu_fallback", 2.0, 0.2), user("有货吗", "ask_stock", 3.0)]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.reasons == [] and not summary.needs_human
    assert summary.waiting_since is None


def test_taken_over_conversations_leave_the_queue_and_handed_back_ones_start_afresh():
    asked = START + [user("转人工", "request_human", 2.0)]
    taken = asked + [
        {"event": "pause", "timestamp": 3.0, "metadata": {"mode": "human", "agent": "agent"}}
    ]
    summary = conversations.summarise("a-1", taken, KEY)
    assert (summary.mode, summary.agent, summary.needs_human) == ("human", "agent", False)
    back = taken + [{"event": "resume", "timestamp": 4.0}]
    assert conversations.summarise("a-1", back, KEY).reasons == []
    again = back + [user("还是转人工", "request_human", 5.0)]
    summary = conversations.summarise("a-1", again, KEY)
    assert summary.needs_human and summary.waiting_since == 5.0


def test_reasons_of_an_earlier_session_are_left_out():
    events = (
        START
        + [user("转人工", "request_human", 2.0)]
        + [
            {"event": "session_started", "timestamp": 9000.0},
            user("有货吗", "ask_stock", 9001.0),
        ]
    )
    assert conversations.summarise("a-1", events, KEY).reasons == []


def test_only_validly_signed_customers_are_recognised():
    signed = {"customer_id": 2, "customer_sig": sign_customer_id(2, KEY)}
    forged = {"customer_id": 3, "customer_sig": sign_customer_id(3, "other-key")}
    assert conversations.verified_customer([user("hi", "greet", 1.0, metadata=signed)], KEY) == 2
    assert conversations.verified_customer([user("hi", "greet", 1.0, metadata=forged)], KEY) is None
    assert conversations.verified_customer([user("hi", "greet", 1.0)], KEY) is None


def test_transcript_marks_who_spoke_and_carries_the_nlu_reading():
    markup = "<img src=x onerror=alert(1)>"
    events = START + [
        user("/greet", "greet", 2.0),
        user(markup, "nlu_fallback", 3.0, 0.31, [{"entity": "order_id", "value": "123"}]),
        bot("没听懂", 3.1),
        bot("人工客服已接入", 4.0, {"sender": "system", "agent": "agent"}),
        bot("您好，我来处理", 5.0, {"sender": "agent", "agent": "agent"}),
    ]
    lines = conversations.transcript(events)
    assert [line["role"] for line in lines] == ["customer", "bot", "system", "agent"]
    assert lines[0]["text"] == markup
    assert lines[0]["nlu"] == {
        "intent": "nlu_fallback",
        "confidence": 0.31,
        "entities": [{"entity": "order_id", "value": "123"}],
    }
    assert lines[3]["agent"] == "agent"


def test_taking_over_pauses_with_the_mode_and_tells_the_customer():
    events = START + [user("转人工", "request_human", 2.0)]
    switch = modes.mode_events(events, "human", staff())
    assert switch[0] == {"event": "pause", "metadata": {"mode": "human", "agent": "agent"}}
    assert switch[1]["event"] == "bot" and "客服小蜜" in switch[1]["text"]
    assert switch[1]["metadata"]["sender"] == "system"
    taken = events + switch
    assert modes.mode_events(taken, "human", staff()) == []  # already there
    assert modes.mode_events(taken, "assist", staff()) == [
        {"event": "pause", "metadata": {"mode": "assist", "agent": "agent"}}
    ]
    back = modes.mode_events(taken, "auto", staff())
    assert [e["event"] for e in back] == ["bot", "resume"]
    assert conversations.mode_of(taken + back)["mode"] == "auto"


def test_another_agents_conversation_needs_a_supervisor():
    taken = START + modes.mode_events(START, "human", staff("agent"))
    with pytest.raises(modes.ModeRefused) as refused:
        modes.mode_events(taken, "auto", staff("agent2"))
    assert refused.value.code == "held_by_another_agent"
    with pytest.raises(modes.ModeRefused):
        modes.agent_message_event(taken, "你好", staff("agent2"))
    boss = staff("supervisor", "supervisor", "王主管")
    assert modes.mode_events(taken, "human", boss)[0]["metadata"]["agent"] == "supervisor"
    with pytest.raises(modes.ModeRefused) as refused:
        modes.mode_events(taken, "sideways", boss)
    assert refused.value.code == "unknown_mode"


def test_agent_messages_need_a_taken_conversation_and_real_text():
    with pytest.raises(modes.ModeRefused) as refused:
        modes.agent_message_event(START, "你好", staff())
    assert refused.value.code == "not_taken_over"
    taken = START + modes.mode_events(START, "assist", staff())
    event = modes.agent_message_event(taken, "  您好，我来处理  ", staff())
    assert event == {
        "event": "bot",
        "text": "您好，我来处理",
        "metadata": {"sender": "agent", "agent": "agent", "agent_name": "客服小蜜"},
    }
    for bad in ("", "   ", None, 5, "长" * 1001):
        with pytest.raises(modes.ModeRefused):
            modes.agent_message_event(taken, bad, staff())


def test_proactive_notices_are_triggers_not_customer_messages():
    events = START + [
        user("EXTERNAL: EXTERNAL_follow_up_visit", "EXTERNAL_follow_up_visit", 2.0),
        bot("您好，上次买的油烟机用得还好吗？", 2.1),
    ]
    summary = conversations.summarise("c-1", events, KEY)
    assert summary.customer_messages == 0 and summary.last_customer_text == ""
    lines = conversations.transcript(events)
    assert lines[0] == {"role": "trigger", "text": "EXTERNAL_follow_up_visit", "time": 2.0}
    assert [line["role"] for line in lines] == ["trigger", "bot"]
