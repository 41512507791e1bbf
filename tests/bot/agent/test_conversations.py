"""The queue's classification, the transcript and the mode switch, from tracker events."""

import pytest

from bot.agent import conversations, modes
from bot.agent.accounts import StaffSession
from shop.signing import proven_metadata, signed_in_customer

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


def proof(customer_id, conversation_id="a-1", key=KEY, issued=1):
    return proven_metadata(customer_id, conversation_id, key, issued)


def test_only_validly_signed_customers_are_recognised():
    signed, forged = proof(2), proof(3, key="other-key")
    moved = proof(4, conversation_id="a-2")  # a proof copied from another conversation
    for metadata, expected in ((signed, 2), (forged, None), (moved, None), (None, None)):
        events = [user("hi", "greet", 1.0, metadata=metadata)]
        assert signed_in_customer(events, KEY, "a-1") == expected
        assert conversations.summarise("a-1", events, KEY).customer_id == expected


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
    meta = {"mode": "human", "agent": "agent", "role": "agent"}
    assert switch[0] == {"event": "pause", "metadata": meta}
    assert switch[1]["event"] == "bot" and "客服小蜜" in switch[1]["text"]
    assert switch[1]["metadata"]["sender"] == "system"
    taken = events + switch
    assert modes.mode_events(taken, "human", staff()) == []  # already there
    assert modes.mode_events(taken, "assist", staff()) == [
        {"event": "pause", "metadata": {**meta, "mode": "assist"}}
    ]
    back = modes.mode_events(taken, "auto", staff())
    assert [e["event"] for e in back] == ["bot", "resume"]
    assert conversations.mode_of(taken + back)["mode"] == "auto"


def test_a_traditional_customer_reads_the_notices_in_traditional():
    events = START + [user("請幫我轉人工客服", "request_human", 2.0)]
    switch = modes.mode_events(events, "human", staff())
    joined = switch[1]
    assert "為您接入人工服務" in joined["text"] and "客服小蜜" in joined["text"]
    [back, _] = modes.mode_events(events + switch, "auto", staff())
    assert "繼續為您服務" in back["text"]


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


ABOVE_LIMIT = START + [
    user("刚买就降价了 差了两百块", "price_protection", 2.0),
    slot("handoff_reason", "compensation_above_limit", 2.1),
]
BOSS = staff("supervisor", "supervisor", "王主管")


@pytest.mark.parametrize("wanted", ["human", "assist"])
def test_a_frontline_agent_cannot_take_what_waits_for_a_supervisor(wanted):
    with pytest.raises(modes.ModeRefused) as refused:
        modes.mode_events(ABOVE_LIMIT, wanted, staff())
    assert refused.value.code == "supervisor_required"
    summary = conversations.summarise("a-1", ABOVE_LIMIT, KEY)
    assert summary.needs_human and summary.queue == "supervisor" and summary.waits_for_supervisor


def test_a_frontline_agent_cannot_drop_what_came_to_wait_for_a_supervisor_while_they_held_it():
    taken = ABOVE_LIMIT[:3] + modes.mode_events(ABOVE_LIMIT[:3], "assist", staff())
    escalated = taken + [slot("handoff_reason", "compensation_above_limit", 5.0)]
    with pytest.raises(modes.ModeRefused) as refused:
        modes.mode_events(escalated, "auto", staff())
    assert refused.value.code == "supervisor_required"
    assert modes.mode_events(escalated, "human", staff())  # still theirs to answer in
    # it waits in the supervisors' queue, held or not, until a supervisor holds it
    summary = conversations.summarise("a-1", escalated, KEY)
    assert summary.agent_role == "agent" and summary.waits_for_supervisor
    assert not summary.needs_human  # held: in no frontline queue
    by_boss = escalated + modes.mode_events(escalated, "human", BOSS)
    summary = conversations.summarise("a-1", by_boss, KEY)
    assert summary.agent == "supervisor" and not summary.waits_for_supervisor
    assert [e["event"] for e in modes.mode_events(by_boss, "auto", BOSS)] == ["bot", "resume"]


def test_a_supervisor_takes_over_and_hands_back_what_waits_for_them():
    taken = ABOVE_LIMIT + modes.mode_events(ABOVE_LIMIT, "human", BOSS)
    assert conversations.mode_of(taken) == {
        "mode": "human",
        "agent": "supervisor",
        "role": "supervisor",
    }
    back = taken + modes.mode_events(taken, "auto", BOSS)
    assert conversations.reasons_of(back) == []  # settled: the queue forgets it
    # after the hand-back a frontline agent may take the conversation again
    assert modes.mode_events(back, "human", staff())[0]["event"] == "pause"


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


def test_an_angry_customer_is_queued_with_the_reason_and_waiting_time():
    events = START + [
        user("/greet", "greet", 2.0),
        user("我的快递怎么还没到", "ask_logistics", 3.0),
        bot("正在为您查询", 3.1),
        user("氣死我了！！！快遞一週都沒動", "ask_logistics", 20.0),
        user("骗子", "nlu_fallback", 30.0, 0.2),
    ]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.needs_human and summary.reasons == ["angry_customer"]
    assert summary.waiting_since == 20.0  # the first angry message
    assert summary.as_dict(now=80.0)["waiting_seconds"] == 60


def test_calm_complaints_and_commands_do_not_count_as_angry():
    events = START + [
        user("收到是坏的", "report_damage", 2.0),
        user("怎么还没到", "ask_logistics", 3.0),
        user("/greet", "greet", 4.0),
        user("EXTERNAL: 骗子", "EXTERNAL_follow_up_visit", 5.0),
    ]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.reasons == [] and not summary.needs_human
    assert summary.waiting_since is None


def test_angry_customer_ranks_after_compensation_and_before_complaint():
    assert conversations.REASONS.index("angry_customer") == (
        conversations.REASONS.index("compensation_above_limit") + 1
    )
    events = START + [
        user("我要投诉", "complain", 2.0),
        user("你们这群骗子，再不处理我就去12315", "complain", 3.0),
        slot("handoff_reason", "compensation_above_limit", 4.0),
        user("转人工", "request_human", 5.0),
    ]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.reasons == [
        "compensation_above_limit",
        "angry_customer",
        "complaint",
        "customer_request",
    ]
    assert summary.waiting_since == 2.0


def test_anger_before_the_bot_took_the_conversation_back_is_forgotten():
    angry = START + [
        user("垃圾客服！！！", "nlu_fallback", 2.0, 0.3),
        {"event": "pause", "timestamp": 3.0, "metadata": {"mode": "human", "agent": "agent"}},
        {"event": "resume", "timestamp": 4.0},
        user("好的谢谢", "thank", 5.0),
    ]
    assert conversations.summarise("a-1", angry, KEY).reasons == []


def corrected(text, intent, t, old, agent="agent", entities=()):
    meta = {"assist_corrected_from": old, "assist_agent": agent}
    return user(text, intent, t, 1.0, entities, metadata=meta)


def test_a_corrected_intent_replaces_the_customer_message_once():
    entity = {"entity": "order_id", "value": "123"}
    events = START + [
        user("订单123到哪了", "nlu_fallback", 2.0, 0.4, [entity]),
        {"event": "pause", "timestamp": 2.5, "metadata": {"mode": "assist", "agent": "agent"}},
        {"event": "rewind", "timestamp": 3.0},
        corrected("订单123到哪了", "ask_logistics", 3.0, "nlu_fallback", "zhang", [entity]),
        {"event": "action", "timestamp": 3.1, "name": "action_listen"},
        bot("您的订单已在派送中", 4.0, {"sender": "agent", "agent": "zhang"}),
    ]
    lines = conversations.transcript(events)
    assert [line["role"] for line in lines] == ["customer", "agent"]
    assert lines[0]["text"] == "订单123到哪了" and lines[0]["time"] == 2.0
    assert lines[0]["nlu"] == {
        "intent": "ask_logistics",
        "confidence": 1.0,
        "entities": [{"entity": "order_id", "value": "123"}],
        "corrected_from": "nlu_fallback",
        "corrected_by": "zhang",
    }
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.customer_messages == 1  # the correction is not a second message
    assert summary.last_customer_text == "订单123到哪了"


def test_only_the_reverted_message_is_replaced_and_later_ones_keep_their_reading():
    events = START + [
        user("有货吗", "ask_stock", 2.0),
        bot("有货", 2.1),
        user("那个坏了", "nlu_fallback", 3.0, 0.3),
        {"event": "rewind", "timestamp": 4.0},
        corrected("那个坏了", "report_damage", 4.0, "nlu_fallback"),
        user("谢谢", "thank", 5.0),
    ]
    lines = conversations.transcript(events)
    assert [line["text"] for line in lines] == ["有货吗", "有货", "那个坏了", "谢谢"]
    assert lines[0]["nlu"]["intent"] == "ask_stock" and "corrected_from" not in lines[0]["nlu"]
    assert lines[2]["nlu"]["intent"] == "report_damage"
    assert lines[2]["nlu"]["corrected_from"] == "nlu_fallback"
    assert lines[2]["nlu"]["corrected_by"] == "agent"
    assert "corrected_from" not in lines[3]["nlu"]


def test_a_rewind_without_a_correction_changes_nothing():
    before = START + [user("有货吗", "ask_stock", 2.0), bot("有货", 2.1)]
    expected = conversations.transcript(before)
    assert conversations.transcript(before + [{"event": "rewind", "timestamp": 3.0}]) == expected
    # the customer's next message is shown as a new message, not as a correction
    plain = before + [{"event": "rewind", "timestamp": 3.0}, user("有货吗", "ask_stock", 4.0)]
    assert [line["text"] for line in conversations.transcript(plain)] == [
        "有货吗",
        "有货",
        "有货吗",
    ]
    # a correction of a different text does not replace the message
    other = before + [
        {"event": "rewind", "timestamp": 3.0},
        corrected("红色有货吗", "ask_stock", 4.0, "nlu_fallback"),
    ]
    texts = [line["text"] for line in conversations.transcript(other)]
    assert texts == ["有货吗", "有货", "红色有货吗"]
    # a rewind after a widget command has no customer message to replace
    command = START + [
        user("有货吗", "ask_stock", 2.0),
        user("/greet", "greet", 3.0),
        {"event": "rewind", "timestamp": 4.0},
        corrected("/greet", "goodbye", 4.0, "greet"),
    ]
    lines = conversations.transcript(command)
    assert len(lines) == 1 and "corrected_from" not in lines[0]["nlu"]


@pytest.mark.parametrize(
    "typed",
    [
        "/ 什么破快递 气死了",
        "/退货 垃圾东西",
        "EXTERNAL 什么破快递 气死了",
        "EXTERNAL_run_out 骗子",
    ],
)
def test_a_customer_message_that_starts_like_a_command_or_a_notice_is_shown_and_read(typed):
    # Rasa reads "/<intent>" only for an intent of the domain; this text went through the NLU
    # pipeline (intent complain), and nothing marks it as an external event.
    events = START + [user("/greet", "greet", 2.0), user(typed, "complain", 3.0)]
    entries = conversations.transcript(events)
    assert [(e["role"], e["text"]) for e in entries] == [("customer", typed)]
    summary = conversations.summarise("a-1", events, KEY)
    assert summary.reasons == ["angry_customer", "complaint"]
    assert summary.last_customer_text == typed and summary.customer_messages == 1


def test_only_real_external_events_are_hidden_from_the_transcript():
    notice = user("EXTERNAL: EXTERNAL_run_out", "EXTERNAL_run_out", 2.0)
    flagged = user(
        "EXTERNAL: follow_up_visit", "follow_up_visit", 3.0, metadata={"is_external": True}
    )
    entries = conversations.transcript(START + [notice, flagged])
    assert [(e["role"], e["text"]) for e in entries] == [
        ("trigger", "EXTERNAL_run_out"),
        ("trigger", "follow_up_visit"),
    ]
