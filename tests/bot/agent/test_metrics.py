"""Agent-assist metrics from tracker events: decisions, handoffs, rates, CSV and the page."""

import csv
import io
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.agent import metrics

T0 = 1_718_000_000.0  # 2024-06-10 14:13:20 in Shanghai
TEMPLATES = Path(metrics.__file__).resolve().parents[1] / "web" / "templates"
STATIC = TEMPLATES.parent / "static"

SUGGESTIONS = [
    {
        "rank": 1,
        "source": "bot",
        "intent": "ask_delivery_time",
        "confidence": 0.93,
        "text": "亲，今天下午三点前付款当天发货哦",
    },
    {
        "rank": 2,
        "source": "intent",
        "intent": "track_logistics",
        "confidence": 0.04,
        "text": "亲，您的包裹已到达上海转运中心",
    },
    {
        "rank": 3,
        "source": "response",
        "intent": None,
        "confidence": None,
        "text": "亲，请稍等，我帮您查一下",
    },
]


def customer(text, intent, t, message_id, confidence=0.91):
    return {
        "event": "user",
        "timestamp": t,
        "text": text,
        "message_id": message_id,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
        "metadata": {},
    }


def bot_reply(text, t):
    return {"event": "bot", "timestamp": t, "text": text, "data": {}, "metadata": {}}


def notice(t, agent="agent"):
    return {
        "event": "bot",
        "timestamp": t,
        "text": "客服小蜜为您服务",
        "data": {},
        "metadata": {"sender": "system", "notice": "agent_joined", "agent": agent},
    }


def pause(t, mode="assist", agent="agent"):
    return {"event": "pause", "timestamp": t, "metadata": {"mode": mode, "agent": agent}}


def resume(t):
    return {"event": "resume", "timestamp": t}


def shown(message_id, t, suggestions=SUGGESTIONS, agent="agent"):
    return {
        "event": "agent",
        "timestamp": t,
        "text": None,
        "data": {
            "assist": "shown",
            "for_message": message_id,
            "agent": agent,
            "suggestions": [dict(s) if isinstance(s, dict) else s for s in suggestions],
        },
    }


def rejected(message_id, t, rank=1, agent="agent"):
    suggestion = SUGGESTIONS[rank - 1]
    return {
        "event": "agent",
        "timestamp": t,
        "text": None,
        "data": {
            "assist": "rejected",
            "for_message": message_id,
            "agent": agent,
            "rank": rank,
            "source": suggestion["source"],
            "intent": suggestion["intent"],
        },
    }


def sent(text, t, message_id, decision, rank=None, asked_at=T0, agent="agent", **extra):
    suggestion = SUGGESTIONS[rank - 1] if rank else {}
    assist = {
        "decision": decision,
        "rank": rank,
        "source": suggestion.get("source"),
        "intent": suggestion.get("intent"),
        "confidence": suggestion.get("confidence"),
        "for_message": message_id,
        "edit_distance": metrics.edit_distance(suggestion["text"], text) if rank else 0,
        "seconds_to_send": round(t - asked_at, 3),
    }
    assist.update(extra)
    return {
        "event": "bot",
        "timestamp": t,
        "text": text,
        "data": {},
        "metadata": {"sender": "agent", "agent": agent, "agent_name": "客服小蜜", "assist": assist},
    }


START = [
    {"event": "action", "timestamp": T0 - 60, "name": "action_session_start"},
    {"event": "session_started", "timestamp": T0 - 60},
    {
        "event": "user",
        "timestamp": T0 - 59,
        "text": "/greet",
        "message_id": "m-greet",
        "parse_data": {"intent": {"name": "greet", "confidence": 1.0}},
        "metadata": {},
    },
    bot_reply("您好，有什么可以帮您？", T0 - 58),
]
TAKEN_OVER = START + [pause(T0 - 30), notice(T0 - 30)]


def only_row(events):
    rows = metrics.decision_rows("c-1", events)
    assert len(rows) == 1
    return rows[0]


# --- edit distance --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kitten", "sitting", 3),
        ("", "", 0),
        ("", "在吗", 2),
        ("今天发货", "明天发货", 1),
        ("亲，今天发货", "亲，今天下午发货哦", 3),
        ("发货", "货发", 2),
        ("abc", "abc", 0),
    ],
)
def test_edit_distance_counts_characters_both_ways(a, b, distance):
    assert metrics.edit_distance(a, b) == distance
    assert metrics.edit_distance(b, a) == distance


# --- decision rows --------------------------------------------------------------------------


def test_accepted_top_suggestion_is_one_row_with_its_rank_time_and_intent():
    events = TAKEN_OVER + [
        customer("今天下单什么时候发货", "ask_delivery_time", T0, "m-1", 0.934567),
        shown("m-1", T0 + 1),
        sent(SUGGESTIONS[0]["text"], T0 + 12.5, "m-1", "accepted", rank=1),
    ]
    row = only_row(events)
    assert row.conversation_id == "c-1" and row.message_id == "m-1"
    assert row.message_time == "2024-06-10T14:13:20+08:00"
    assert (row.intent, row.confidence) == ("ask_delivery_time", 0.935)
    assert (row.agent, row.outcome, row.rank, row.source) == ("agent", "accepted", 1, "bot")
    assert row.edit_distance == 0
    assert row.seconds_to_send == 12.5
    assert (row.suggestions_shown, row.rejections) == (3, 0)


def test_edited_second_suggestion_keeps_its_rank_and_distance():
    text = SUGGESTIONS[1]["text"] + "，预计明天送达"
    events = TAKEN_OVER + [
        customer("我的快递到哪了", "track_logistics", T0, "m-1"),
        shown("m-1", T0 + 1),
        sent(text, T0 + 40, "m-1", "edited", rank=2),
    ]
    row = only_row(events)
    assert (row.outcome, row.rank, row.source) == ("edited", 2, "intent")
    assert row.edit_distance == 7  # "，预计明天送达" added
    assert row.seconds_to_send == 40.0


def test_edit_distance_is_worked_out_from_the_shown_suggestion_when_not_recorded():
    text = SUGGESTIONS[1]["text"] + "，预计明天送达"
    events = TAKEN_OVER + [
        customer("我的快递到哪了", "track_logistics", T0, "m-1"),
        shown("m-1", T0 + 1),
        sent(text, T0 + 40, "m-1", "edited", rank=2, edit_distance=None),
    ]
    assert only_row(events).edit_distance == 7


def test_hand_written_reply_has_no_rank_or_distance():
    events = TAKEN_OVER + [
        customer("能开发票吗", "ask_invoice", T0, "m-1"),
        shown("m-1", T0 + 1),
        sent("可以的，下单时备注抬头和税号即可", T0 + 30, "m-1", "written"),
    ]
    row = only_row(events)
    assert row.outcome == "written"
    assert (row.rank, row.source, row.edit_distance) == (None, None, None)
    assert row.seconds_to_send == 30.0 and row.rejections == 0


def test_rejection_then_written_reply_counts_the_rejection():
    events = TAKEN_OVER + [
        customer("能开发票吗", "ask_invoice", T0, "m-1"),
        shown("m-1", T0 + 1),
        rejected("m-1", T0 + 5, rank=1),
        rejected("m-1", T0 + 6, rank=2),
        sent("可以的，下单时备注抬头和税号即可", T0 + 30, "m-1", "written"),
    ]
    row = only_row(events)
    assert (row.outcome, row.rejections, row.suggestions_shown) == ("written", 2, 3)


def test_rejected_without_a_reply_and_shown_without_anything_are_told_apart():
    events = TAKEN_OVER + [
        customer("能开发票吗", "ask_invoice", T0, "m-1"),
        shown("m-1", T0 + 1, agent="lisi"),
        rejected("m-1", T0 + 5, agent="lisi"),
        customer("在吗", "greet", T0 + 60, "m-2"),
        shown("m-2", T0 + 61, agent="lisi"),
    ]
    rows = metrics.decision_rows("c-1", events)
    assert [(r.message_id, r.outcome, r.agent) for r in rows] == [
        ("m-1", "rejected_only", "lisi"),
        ("m-2", "unanswered", "lisi"),
    ]
    assert rows[1].seconds_to_send is None and rows[1].rank is None


def test_duplicate_shown_and_rejected_events_are_counted_once():
    events = TAKEN_OVER + [
        customer("今天下单什么时候发货", "ask_delivery_time", T0, "m-1"),
        shown("m-1", T0 + 1),
        shown("m-1", T0 + 3),  # the console showed the same set again after a refresh
        shown("m-1", T0 + 4, agent="supervisor"),
        rejected("m-1", T0 + 5, rank=1),
        rejected("m-1", T0 + 5.1, rank=1),  # double click
        sent(SUGGESTIONS[1]["text"], T0 + 9, "m-1", "accepted", rank=2),
    ]
    rows = metrics.decision_rows("c-1", events)
    assert len(rows) == 1
    assert (rows[0].suggestions_shown, rows[0].rejections) == (3, 1)
    assert (rows[0].outcome, rows[0].rank) == ("accepted", 2)


def test_the_first_message_sent_for_a_customer_message_decides_the_outcome():
    events = TAKEN_OVER + [
        customer("今天下单什么时候发货", "ask_delivery_time", T0, "m-1"),
        shown("m-1", T0 + 1),
        sent("我帮您看一下", T0 + 8, "m-1", "written"),
        sent(SUGGESTIONS[0]["text"], T0 + 20, "m-1", "accepted", rank=1),
    ]
    row = only_row(events)
    assert (row.outcome, row.seconds_to_send) == ("written", 8.0)


def test_only_customer_messages_with_suggestions_make_rows():
    external = customer("EXTERNAL_restock", "EXTERNAL_restock_notice", T0 + 1, "m-ext")
    events = TAKEN_OVER + [
        customer("在吗", "greet", T0, "m-0"),  # no suggestions shown: no row
        external,
        shown("m-ext", T0 + 2),  # not a customer message
        shown("m-greet", T0 + 3),  # the widget's /greet
        shown("m-gone", T0 + 4),  # no such message on this tracker
        customer("能开发票吗", "ask_invoice", T0 + 10, "m-1"),
        shown("m-1", T0 + 11, suggestions=[]),  # nothing was shown
        customer("发票抬头怎么填", "ask_invoice", T0 + 20, "m-2"),
        shown("m-2", T0 + 21),
    ]
    assert [r.message_id for r in metrics.decision_rows("c-1", events)] == ["m-2"]


def test_old_agent_messages_without_assist_metadata_are_ignored_for_rows():
    old = {
        "event": "bot",
        "timestamp": T0 + 5,
        "text": "您好，我是客服小蜜",
        "metadata": {"sender": "agent", "agent": "agent", "agent_name": "客服小蜜"},
    }
    events = TAKEN_OVER + [
        customer("在吗", "greet", T0, "m-1"),
        shown("m-1", T0 + 1),
        old,
    ]
    assert only_row(events).outcome == "unanswered"


def test_malformed_values_do_not_break_the_rows():
    events = TAKEN_OVER + [
        customer("在吗", None, T0, "m-1", confidence="high"),
        {"event": "agent", "timestamp": T0 + 1, "data": "shown"},
        {"event": "agent", "timestamp": T0 + 1, "data": {"assist": "shown", "for_message": None}},
        {"event": "agent", "data": {"assist": "rejected", "for_message": "m-1", "source": ["x"]}},
        shown("m-1", T0 + 2, suggestions=[SUGGESTIONS[0], "bogus"]),
        sent("好的", T0 + 9, "m-1", "maybe", rank=None, seconds_to_send="fast"),
    ]
    row = only_row(events)
    assert (row.intent, row.confidence) == (None, None)
    assert row.outcome == "written"  # an unknown decision counts as written by hand
    assert row.seconds_to_send == 9.0  # from the event times when not recorded
    assert (row.suggestions_shown, row.rejections) == (1, 1)


# --- handoffs -------------------------------------------------------------------------------


def test_handoff_first_response_counts_from_when_the_customer_started_waiting():
    events = START + [
        customer("我要投诉，东西是坏的", "complain", T0, "m-1"),
        bot_reply("非常抱歉，我马上为您转人工", T0 + 1),
        customer("人呢", "ask_human", T0 + 20, "m-2"),
        customer("快点", "ask_human", T0 + 25, "m-3"),
        pause(T0 + 30, mode="assist"),
        notice(T0 + 30),
        pause(T0 + 40, mode="human"),  # a mode change, not a second handoff
        sent("您好，我是客服小蜜，马上为您处理", T0 + 80, "m-3", "written", asked_at=T0 + 25),
        sent("请问订单号是多少", T0 + 90, "m-3", "written", asked_at=T0 + 25),
    ]
    found = metrics.handoffs(events)
    assert len(found) == 1
    handoff = found[0]
    assert (handoff.agent, handoff.mode, handoff.paused_at) == ("agent", "assist", T0 + 30)
    assert handoff.waiting_since == T0 + 20  # the earliest message after the bot's last reply
    assert handoff.first_response_at == T0 + 80
    assert handoff.first_response_seconds == 60.0


def test_handoff_without_a_waiting_customer_counts_from_the_pause():
    events = START + [
        customer("你们几点发货", "ask_delivery_time", T0, "m-1"),
        bot_reply("下午三点前付款当天发货", T0 + 1),
        pause(T0 + 100, mode="human", agent="lisi"),
        notice(T0 + 100, agent="lisi"),
        sent("您好，看到您在看空调，需要帮您预约安装吗", T0 + 130, None, "written", asked_at=T0),
    ]
    handoff = metrics.handoffs(events)[0]
    assert (handoff.agent, handoff.mode, handoff.waiting_since) == ("lisi", "human", T0 + 100)
    assert handoff.first_response_seconds == 30.0


def test_handback_before_any_reply_leaves_no_response_and_a_new_pause_is_a_new_handoff():
    events = START + [
        customer("转人工", "request_human", T0, "m-1"),
        pause(T0 + 10),
        notice(T0 + 10),
        resume(T0 + 50),  # handed back without a word
        sent("迟到的消息", T0 + 55, None, "written"),  # after the hand-back: not a response
        customer("还是要人工", "request_human", T0 + 100, "m-2"),
        pause(T0 + 105),
        sent("来了", T0 + 120, "m-2", "written", asked_at=T0 + 100),
        {"event": "session_started", "timestamp": T0 + 90_000},  # Rasa answers again
        customer("在吗", "greet", T0 + 90_010, "m-3"),
        pause(T0 + 90_020),
    ]
    found = metrics.handoffs(events)
    assert [(h.paused_at, h.waiting_since, h.first_response_seconds) for h in found] == [
        (T0 + 10, T0, None),
        (T0 + 105, T0 + 100, 20.0),
        (T0 + 90_020, T0 + 90_010, None),
    ]


# --- summary --------------------------------------------------------------------------------


def conversation_with_every_outcome():
    """Six customer messages over three intents, each handled differently."""
    delivery, logistics, complaint = "ask_delivery_time", "track_logistics", "complain"
    fourth = dict(SUGGESTIONS[0], rank=4, text="亲，我们有顺丰可选")
    suggestions = SUGGESTIONS + [fourth]
    return TAKEN_OVER + [
        customer("几点发货", delivery, T0, "m-1"),
        shown("m-1", T0 + 1, suggestions),
        sent(SUGGESTIONS[0]["text"], T0 + 5, "m-1", "accepted", rank=1, asked_at=T0),
        customer("明天能到吗", delivery, T0 + 100, "m-2"),
        shown("m-2", T0 + 101, suggestions),
        sent(SUGGESTIONS[1]["text"] + "哦", T0 + 110, "m-2", "edited", rank=2, asked_at=T0 + 100),
        customer("周末发货吗", delivery, T0 + 200, "m-3"),
        shown("m-3", T0 + 201, suggestions),
        sent("周末也正常发货", T0 + 230, "m-3", "written", asked_at=T0 + 200),
        customer("物流到哪了", logistics, T0 + 300, "m-4"),
        shown("m-4", T0 + 301, suggestions),
        {
            **sent(fourth["text"], T0 + 320, "m-4", "accepted", asked_at=T0 + 300),
            "metadata": {
                "sender": "agent",
                "agent": "agent",
                "assist": {
                    "decision": "accepted",
                    "rank": 4,
                    "source": "bot",
                    "for_message": "m-4",
                    "edit_distance": 0,
                    "seconds_to_send": 20.0,
                },
            },
        },
        customer("我要投诉", complaint, T0 + 400, "m-5"),
        shown("m-5", T0 + 401, suggestions),
        rejected("m-5", T0 + 402),
        customer("太差了", complaint, T0 + 500, "m-6"),
        shown("m-6", T0 + 501, suggestions),
    ]


def test_summary_rates_overall_and_per_intent():
    events = conversation_with_every_outcome()
    rows = metrics.decision_rows("c-1", events)
    assert [r.outcome for r in rows] == [
        "accepted",
        "edited",
        "written",
        "accepted",
        "rejected_only",
        "unanswered",
    ]
    summary = metrics.summarise(rows, metrics.handoffs(events))
    assert summary["messages"] == 6 and summary["replied"] == 4 and summary["rejections"] == 1
    assert summary["top1_rate"] == pytest.approx(1 / 6)
    assert summary["top3_rate"] == pytest.approx(2 / 6)  # rank 4 is not in the top three
    assert summary["edit_rate"] == pytest.approx(1 / 3)
    assert summary["manual_rate"] == pytest.approx(1 / 4)
    assert summary["handoffs"] == 1 and summary["answered_handoffs"] == 1

    by_intent = {group["intent"]: group for group in summary["by_intent"]}
    assert [g["intent"] for g in summary["by_intent"]] == [
        "ask_delivery_time",
        "complain",
        "track_logistics",
        None,  # the agent took over while nobody was waiting: a handoff without an intent
    ]
    assert by_intent[None]["messages"] == 0 and by_intent[None]["handoffs"] == 1
    delivery = by_intent["ask_delivery_time"]
    assert delivery["messages"] == 3
    assert delivery["top1_rate"] == pytest.approx(1 / 3)
    assert delivery["top3_rate"] == pytest.approx(2 / 3)
    assert delivery["edit_rate"] == pytest.approx(1 / 2)
    assert delivery["manual_rate"] == pytest.approx(1 / 3)
    complaint = by_intent["complain"]
    assert (complaint["top1_rate"], complaint["top3_rate"]) == (0.0, 0.0)
    assert (complaint["edit_rate"], complaint["manual_rate"]) == (None, None)  # nothing sent
    assert (complaint["rejected_only"], complaint["unanswered"]) == (1, 1)
    assert by_intent["track_logistics"]["top3_rate"] == 0.0


def test_median_first_response_over_answered_handoffs_of_many_conversations():
    def handed_over(wait, answered=True):
        events = START + [customer("转人工", "request_human", T0, "m-1"), pause(T0 + 1)]
        if answered:
            events.append(sent("您好", T0 + wait, "m-1", "written"))
        return events

    found = []
    for events in (handed_over(10), handed_over(30), handed_over(95), handed_over(0, False)):
        found += metrics.handoffs(events)
    summary = metrics.summarise([], found)
    assert summary["handoffs"] == 4 and summary["answered_handoffs"] == 3
    assert summary["median_first_response_seconds"] == 30.0


def test_empty_data_gives_no_rates_and_no_division_by_zero():
    assert metrics.decision_rows("c-1", []) == [] and metrics.handoffs([]) == []
    summary = metrics.summarise([], [])
    for rate in ("top1_rate", "top3_rate", "edit_rate", "manual_rate"):
        assert summary[rate] is None
    assert summary["messages"] == 0 and summary["handoffs"] == 0
    assert summary["median_first_response_seconds"] is None
    assert summary["by_intent"] == []
    assert metrics.to_csv([]).splitlines() == [",".join(metrics.CSV_COLUMNS)]


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_a_header_and_one_line_per_row():
    rows = metrics.decision_rows("c-1", conversation_with_every_outcome())
    parsed = list(csv.DictReader(io.StringIO(metrics.to_csv(rows))))
    assert len(parsed) == 6
    first = parsed[0]
    assert first["conversation_id"] == "c-1" and first["message_id"] == "m-1"
    assert first["message_time"] == "2024-06-10T14:13:20+08:00"
    assert (first["outcome"], first["rank"], first["edit_distance"]) == ("accepted", "1", "0")
    assert first["suggestions_shown"] == "4"
    assert parsed[2]["rank"] == "" and parsed[2]["edit_distance"] == ""  # written


def test_csv_cells_cannot_run_as_spreadsheet_formulas():
    events = [
        customer("=1+1", '=HYPERLINK("http://evil.example","点我")', T0, "m-1"),
        shown("m-1", T0 + 1, agent="@SUM(A1:A9)"),
        customer("在吗", "+cmd|' /C calc'!A0", T0 + 10, "m-2"),
        shown("m-2", T0 + 11, agent="-2+3"),
        customer("好的", 'ask_invoice, "quoted"\nnext', T0 + 20, "m-3"),
        shown("m-3", T0 + 21),
    ]
    text = metrics.to_csv(metrics.decision_rows("=cmd()", events))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [p["intent"] for p in parsed] == [
        '\'=HYPERLINK("http://evil.example","点我")',
        "'+cmd|' /C calc'!A0",
        'ask_invoice, "quoted"\nnext',
    ]
    assert [p["agent"] for p in parsed] == ["'@SUM(A1:A9)", "'-2+3", "agent"]
    assert {p["conversation_id"] for p in parsed} == {"'=cmd()"}
    for record in parsed:
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@"))


# --- the page -------------------------------------------------------------------------------


ENVIRONMENTS = {
    "console": {
        "autoescape": select_autoescape(["html"]),
        "trim_blocks": True,
        "lstrip_blocks": True,
    },
    "plain": {"autoescape": True},
}


@pytest.fixture(params=sorted(ENVIRONMENTS))
def render(request):
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), **ENVIRONMENTS[request.param])

    def rendered(**context):
        return env.get_template("agent_metrics.html").render(**context)

    return rendered


class Staff:
    def __init__(self, display_name, role):
        self.display_name, self.role = display_name, role


def test_page_shows_the_figures_and_links(render):
    events = conversation_with_every_outcome()
    rows = metrics.decision_rows("c-1", events)
    summary = metrics.summarise(rows, metrics.handoffs(events))
    page = render(
        staff=Staff("王主管", "supervisor"),
        summary=summary,
        rows=metrics.latest(rows),
        period_label="最近 7 天",
        calendar_known_until="2026-12-31",
    )
    assert page.startswith("<!doctype html>")
    assert 'data-testid="calendar-known-until">2026-12-31<' in page
    assert "<title>辅助回复指标" in page and "王主管（主管）" in page and "最近 7 天" in page
    assert 'href="/agent"' in page and 'href="/agent/metrics.csv"' in page and "下载 CSV" in page
    assert 'href="/static/agent_metrics.css"' in page
    assert '<td class="num" data-metric="top1_rate">16.7%</td>' in page
    assert '<td class="num" data-metric="top3_rate">33.3%</td>' in page
    assert '<td class="num" data-metric="edit_rate">33.3%</td>' in page
    assert '<td class="num" data-metric="manual_rate">25.0%</td>' in page
    assert '<td class="num" data-metric="handoffs">1</td>' in page
    assert "最近 6 条" in page and "<caption>" in page and 'scope="col"' in page
    assert 'scope="row"' in page
    # newest first; per intent: delivery's rates, the complaints' rates shown as a dash
    assert page.index("2024-06-10 14:21:40") < page.index("2024-06-10 14:13:20")
    assert "66.7%" in page and "修改后发送" in page and "仅拒绝" in page
    # the CSP forbids inline styles and scripts
    assert "<script" not in page and "style=" not in page and "<style" not in page


def test_page_with_no_data_shows_dashes_not_errors(render):
    page = render(
        staff=Staff("客服小蜜", "agent"),
        summary=metrics.summarise([], []),
        rows=[],
        period_label="今天",
    )
    assert '<td class="num" data-metric="top1_rate">—</td>' in page
    assert '<td class="num" data-metric="median_first_response_seconds">—</td>' in page
    assert "暂无数据" in page and "客服小蜜（一线客服）" in page


def test_page_escapes_markup_from_the_tracker(render):
    evil = '<img src=x onerror="alert(1)">'
    events = TAKEN_OVER + [
        customer("<script>alert(1)</script>", "<script>alert(1)</script>", T0, "m-1"),
        shown("m-1", T0 + 1, agent=evil),
    ]
    rows = metrics.decision_rows('c-"><b>x</b>', events)
    page = render(
        staff=Staff("<b>小蜜</b>", "agent"),
        summary=metrics.summarise(rows, []),
        rows=rows,
        period_label="<i>今天</i>",
    )
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;b&gt;小蜜&lt;/b&gt;" in page and "c-&#34;&gt;&lt;b&gt;x&lt;/b&gt;" in page


def test_page_stylesheets_exist():
    assert (STATIC / "agent.css").is_file() and (STATIC / "agent_metrics.css").is_file()


def test_handoffs_count_for_the_intent_the_wait_began_with_and_export_as_csv():
    def handed_over(intent, wait):
        events = START + [customer("转人工", intent, T0, "m-1"), pause(T0 + 1)]
        return events + [sent("您好", T0 + wait, "m-1", "written")]

    found = []
    for intent, wait in (("request_human", 10), ("request_human", 40), ("complain", 5)):
        found += metrics.handoffs(handed_over(intent, wait))
    summary = metrics.summarise([], found)
    by_intent = {group["intent"]: group for group in summary["by_intent"]}
    assert [g["intent"] for g in summary["by_intent"]] == ["request_human", "complain"]
    assert by_intent["request_human"]["handoffs"] == 2
    assert by_intent["request_human"]["median_first_response_seconds"] == 25.0
    assert by_intent["complain"]["median_first_response_seconds"] == 5.0

    lines = metrics.summary_csv(summary).splitlines()
    assert lines[0] == ",".join(metrics.SUMMARY_COLUMNS)
    assert lines[1].startswith("*,0,") and lines[1].endswith(",3,3,10.0")
    assert lines[2].startswith("request_human,0,") and lines[2].endswith(",2,2,25.0")
    handoff_lines = metrics.handoffs_csv(found).splitlines()
    assert handoff_lines[0] == ",".join(metrics.HANDOFF_COLUMNS) and len(handoff_lines) == 4
    assert ",assist,request_human," in handoff_lines[1] and handoff_lines[1].endswith(",10.0")
