"""What a search box or filter from the address bar turns into in SQL."""
from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import ColumnElement, func, or_

MAX_QUERY = 100
MAX_COMPANY_KEY = 200  # as the columns that hold one
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


# Legal-form endings dropped from a company name before comparing ("Kowalski Sp. z o.o." is
# "Kowalski"), as word sequences after punctuation is removed.
LEGAL_FORMS = (("sp", "z", "o", "o"), ("sp", "z", "oo"), ("spzoo",), ("s", "a"), ("sa",), ("sp", "j"),
               ("sp", "k"), ("s", "c"), ("ltd",), ("limited",), ("llc",), ("inc",), ("gmbh",),
               ("ag",), ("plc",), ("co",), ("and", "co"), ("bv",), ("srl",), ("sarl",))
_FOLD = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "&": " and "})


@functools.lru_cache(maxsize=65_536)  # pure, and called on every referral and partner name
def company_key(name: str) -> str:
    """A company name as compared: no case, accents, punctuation or legal form."""
    text = unicodedata.normalize("NFKD", name.casefold().translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", text).split()
    stripped = True
    while stripped:
        stripped = False
        for form in LEGAL_FORMS:
            if len(words) > len(form) and tuple(words[-len(form):]) == form:
                words, stripped = words[:-len(form)], True
    return " ".join(words)[:MAX_COMPANY_KEY]  # NFKD can lengthen a name many times (the column's size)
