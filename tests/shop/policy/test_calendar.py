"""The holiday calendar adapter at fixed dates, and its weekend fallback beyond the known years."""

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest

from shop.policy import calendar

LOGGER = "shop.policy.calendar"


@pytest.fixture
def fresh_process(monkeypatch):
    """As if no date outside the calendar had been asked for yet in this process."""
    monkeypatch.setattr(calendar, "_warned_unknown", False)


def warnings_in(caplog):
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def next_weekday(after, weekday):
    """The first day after `after` that falls on `weekday` (Monday is 0)."""
    first = after + timedelta(days=1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 17),  # 春节 (初一), a Tuesday
        date(2026, 2, 23),  # the last day of the Spring Festival break, a Monday
        date(2026, 10, 1),  # 国庆节, a Thursday
        date(2026, 10, 7),
        date(2026, 3, 14),  # an ordinary Saturday
    ],
)
def test_holidays_and_weekends_are_days_off(day, caplog, fresh_process):
    assert calendar.is_day_off(day)
    assert warnings_in(caplog) == []


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 14),  # Saturday made up for 春节 (调休)
        date(2026, 9, 20),  # Sunday made up for 国庆节
        date(2026, 10, 10),  # Saturday made up for 国庆节
    ],
)
def test_adjusted_working_weekend_days_are_working_days(day, caplog, fresh_process):
    assert day.weekday() >= 5
    assert day in chinese_calendar.constants.workdays
    assert not calendar.is_day_off(day)
    assert warnings_in(caplog) == []


def test_an_ordinary_weekday_is_a_working_day():
    assert not calendar.is_day_off(date(2026, 3, 10))  # a Tuesday
    assert not calendar.is_day_off(date(2026, 10, 8))  # the Thursday after National Day


def test_known_until_is_the_last_day_the_calendar_knows():
    last = calendar.known_until()
    assert last >= date(2026, 12, 31)
    assert (last.month, last.day) == (12, 31)
    chinese_calendar.is_workday(last)  # known: does not raise
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(last + timedelta(days=1))


def test_beyond_the_calendar_only_weekends_are_off_and_it_is_said_once(caplog, fresh_process):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    saturday = next_weekday(calendar.known_until(), 5)
    monday = next_weekday(calendar.known_until(), 0)
    assert calendar.is_day_off(saturday)
    assert not calendar.is_day_off(monday)
    assert calendar.is_day_off(saturday)
    warnings = warnings_in(caplog)
    assert len(warnings) == 1
    assert calendar.known_until().isoformat() in warnings[0].getMessage()


def test_before_the_calendar_only_weekends_are_off(fresh_process):
    before = calendar.known_from() - timedelta(days=1)
    assert calendar.is_day_off(before) == (before.weekday() >= 5)
    assert not calendar.is_day_off(next_weekday(before - timedelta(days=7), 0))
