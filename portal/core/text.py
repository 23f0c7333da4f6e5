"""What a search box or filter from the address bar turns into in SQL."""
from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_

MAX_QUERY = 100
ESCAPE = "\\"


def clean(text: str | None, limit: int = MAX_QUERY) -> str:
    """A filter value as typed, minus NUL characters (PostgreSQL text cannot hold them)."""
    return (text or "").replace("\x00", "").strip()[:limit]


def normalize_email(email: str) -> str:
    """An email as stored and compared: trimmed and lower-cased."""
    return email.strip().lower()


def contains(query: str | None, *columns) -> ColumnElement[bool] | None:
    """Case-insensitive "contains" over ``columns``; ``%`` and ``_`` match only themselves.

    None for a blank query (no condition).
    """
    text = clean(query).lower()
    if not text:
        return None
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape=ESCAPE) for column in columns))
