"""The calendar of a standing order: which days it falls on. Pure date arithmetic, no database.

Dates are anchor-based: occurrence *k* is the start plus *k* periods, so a schedule never drifts.
Monthly and quarterly occurrences keep the start's day of the month, clamped to the month's last
day and back to the anchor afterwards (31 Jan → 28/29 Feb → 31 Mar); weekly and biweekly keep the
start's weekday. The start is occurrence 0 and the end date is inclusive. All dates are days in
the wholesaler's time zone (``TRELLIS_TIMEZONE``); turning "now" into such a day is the caller's.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

# cadence -> (months, days) of one period
CADENCES: dict[str, tuple[int, int]] = {
    "weekly": (0, 7),
    "biweekly": (0, 14),
    "monthly": (1, 0),
    "quarterly": (3, 0),
}


def _check(cadence: str) -> tuple[int, int]:
    try:
        return CADENCES[cadence]
    except KeyError:
        raise ValueError(f"unknown cadence {cadence!r}; one of {', '.join(CADENCES)}") from None


def occurrence(start: date, cadence: str, k: int) -> date:
    """The k-th date of a schedule (k = 0 is the start)."""
    if k < 0:
        raise ValueError("occurrences are numbered from 0")
    months, days = _check(cadence)
    if days:
        return start + timedelta(days=days * k)
    index = start.month - 1 + months * k
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def index_on_or_before(start: date, cadence: str, day: date) -> int | None:
    """The number of the last occurrence on or before ``day`` (None: ``day`` is before the start)."""
    if day < start:
        return None
    months, days = _check(cadence)
    if days:
        return (day - start).days // days
    k = ((day.year - start.year) * 12 + day.month - start.month) // months
    # The estimate counts whole months; the clamped day may still lie after `day`.
    while k > 0 and occurrence(start, cadence, k) > day:
        k -= 1
    return k


def occurrences(start: date, cadence: str, *, end: date | None = None, after: date | None = None,
                through: date | None = None) -> Iterator[date]:
    """The schedule's dates, in order: those after ``after`` (exclusive) up to ``through`` and
    ``end`` (both inclusive). Without a bound above it runs forever: take what you need."""
    first = 0
    if after is not None:
        last = index_on_or_before(start, cadence, after)
        first = 0 if last is None else last + 1
    k = first
    while True:
        day = occurrence(start, cadence, k)
        if (end is not None and day > end) or (through is not None and day > through):
            return
        yield day
        k += 1


def upcoming(start: date, cadence: str, today: date, *, end: date | None = None,
             skipped: frozenset[date] | set[date] = frozenset(), paused_until: date | None = None,
             paused: bool = False, count: int = 6) -> list[date]:
    """The next ``count`` dates to be placed from ``today`` on (today included), leaving out
    skipped dates and, for a paused schedule, everything before it resumes (none at all when it
    is paused without a resume date)."""
    if paused and paused_until is None:
        return []
    since = today if not paused else max(today, paused_until)
    found: list[date] = []
    for day in occurrences(start, cadence, end=end, after=since - timedelta(days=1)):
        if day not in skipped:
            found.append(day)
        if len(found) == count:
            break
    return found
