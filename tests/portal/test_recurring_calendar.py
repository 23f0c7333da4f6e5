"""The standing-order calendar: anchor-based, clamped to month ends, end date inclusive."""
from __future__ import annotations

from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.recurring.schedules import CADENCES, index_on_or_before, occurrence, occurrences, upcoming


def first(n, *args, **kw):
    return list(islice(occurrences(*args, **kw), n))


def test_the_31st_clamps_to_month_ends_and_returns_to_the_anchor():
    assert first(4, date(2027, 1, 31), "monthly") == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    # leap year: 29 February
    assert first(3, date(2028, 1, 31), "monthly") == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_a_29_february_start_keeps_the_29th_where_there_is_one():
    assert first(3, date(2028, 2, 29), "quarterly") == [date(2028, 2, 29), date(2028, 5, 29), date(2028, 8, 29)]
    assert occurrence(date(2028, 2, 29), "monthly", 12) == date(2029, 2, 28)
    assert occurrence(date(2028, 2, 29), "monthly", 48) == date(2032, 2, 29)


def test_quarterly_from_the_end_of_november_crosses_the_year():
    assert first(4, date(2026, 11, 30), "quarterly") == [
        date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 30), date(2027, 8, 30)]


def test_biweekly_keeps_the_weekday_across_the_year_end():
    dates = first(4, date(2026, 12, 17), "biweekly")  # a Thursday
    assert dates == [date(2026, 12, 17), date(2026, 12, 31), date(2027, 1, 14), date(2027, 1, 28)]
    assert {d.weekday() for d in dates} == {3}


def test_the_end_date_is_inclusive_and_the_start_is_the_first_occurrence():
    assert list(occurrences(date(2027, 1, 4), "weekly", end=date(2027, 1, 25))) == [
        date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18), date(2027, 1, 25)]
    assert list(occurrences(date(2027, 1, 4), "weekly", end=date(2027, 1, 24)))[-1] == date(2027, 1, 18)


def test_after_and_through_bound_the_dates():
    start = date(2027, 1, 31)
    assert list(occurrences(start, "monthly", after=date(2027, 2, 28), through=date(2027, 5, 31))) == [
        date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]


def test_upcoming_leaves_out_skipped_dates_and_pauses():
    start = date(2027, 1, 15)
    today = date(2027, 3, 1)
    assert upcoming(start, "monthly", today, count=3) == [date(2027, 3, 15), date(2027, 4, 15), date(2027, 5, 15)]
    assert upcoming(start, "monthly", today, count=3, skipped={date(2027, 4, 15)}) == [
        date(2027, 3, 15), date(2027, 5, 15), date(2027, 6, 15)]
    # paused until 1 May: April's date is neither placed nor listed; the anchor does not move
    assert upcoming(start, "monthly", today, count=2, paused=True, paused_until=date(2027, 5, 1)) == [
        date(2027, 5, 15), date(2027, 6, 15)]
    assert upcoming(start, "monthly", today, paused=True) == []
    assert upcoming(start, "monthly", today, end=date(2027, 4, 15)) == [date(2027, 3, 15), date(2027, 4, 15)]
    assert upcoming(start, "monthly", date(2027, 3, 15), count=1) == [date(2027, 3, 15)]  # today counts


def test_an_unknown_cadence_is_refused():
    with pytest.raises(ValueError, match="unknown cadence 'daily'"):
        occurrence(date(2027, 1, 1), "daily", 1)


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       cadence=st.sampled_from(sorted(CADENCES)),
       offset=st.integers(min_value=-40, max_value=4000))
def test_index_on_or_before_finds_the_last_occurrence_not_after_the_day(start, cadence, offset):
    day = start + timedelta(days=offset)
    k = index_on_or_before(start, cadence, day)
    if day < start:
        assert k is None
        return
    assert occurrence(start, cadence, k) <= day < occurrence(start, cadence, k + 1)


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       cadence=st.sampled_from(sorted(CADENCES)), k=st.integers(min_value=0, max_value=400))
def test_occurrences_are_increasing_and_monthly_ones_return_to_the_anchor_day(start, cadence, k):
    this, following = occurrence(start, cadence, k), occurrence(start, cadence, k + 1)
    assert this < following
    if cadence in ("weekly", "biweekly"):
        assert this.weekday() == start.weekday()
    else:
        # the anchor's day, or (clamped) the last day of a shorter month
        assert this.day == start.day or (this.day < start.day and (this + timedelta(days=1)).day == 1)
