"""Quiet hours as a shop rule: when the shop may call, and deadlines that skip the night."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shop.policy import quiet_hours

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    "start, hours, deadline",
    [
        (at(23, 10), 4, at(23, 14)),  # a day-time promise is kept as it is
        (at(23, 18), 4, at(23, 22)),  # ends as quiet hours begin
        (at(23, 21), 4, at(24, 11)),  # one hour tonight, three tomorrow morning
        (at(23, 23), 4, at(24, 12)),  # made at night: counted from 08:00
        (at(24, 3), 2, at(24, 10)),
        (at(23, 20), 24, at(25, 16)),  # two evenings skipped: 2 h + 14 h + 8 h
    ],
)
def test_a_deadline_counts_only_waking_hours(start, hours, deadline):
    got = quiet_hours.waking_deadline(start, hours, TZ)
    assert got == deadline
    assert not quiet_hours.is_quiet(got, TZ) or got.time() == quiet_hours.QUIET_FROM


def test_a_deadline_from_utc_is_in_the_shops_time_zone():
    start = at(23, 21).astimezone(ZoneInfo("UTC"))
    assert quiet_hours.waking_deadline(start, 4, TZ) == at(24, 11)


def test_no_deadline_falls_inside_quiet_hours_for_any_start_or_promise():
    for minutes in range(0, 24 * 60, 37):
        start = at(23, 0) + timedelta(minutes=minutes)
        for hours in (1, 2, 4, 6, 12, 24, 48):
            local = quiet_hours.waking_deadline(start, hours, TZ).time()
            assert quiet_hours.QUIET_UNTIL <= local <= quiet_hours.QUIET_FROM


def test_naive_moments_and_negative_hours_are_refused():
    with pytest.raises(ValueError):
        quiet_hours.waking_deadline(datetime(2026, 11, 23, 21), 4, TZ)
    with pytest.raises(ValueError):
        quiet_hours.waking_deadline(at(23, 21), -1, TZ)
