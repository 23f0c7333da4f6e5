"""Paging: one place for the arithmetic of pages, and the page numbers a pager shows."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE = 2**31 - 1  # a page number beyond this is answered like any page past the last


def page_count(total: int, per_page: int) -> int:
    """Pages needed for ``total`` rows; at least one, so an empty list still has page 1."""
    return max((total + per_page - 1) // per_page, 1)


def clamp_page(page: int, total: int, per_page: int) -> tuple[int, int]:
    """(page, pages): the page asked for, within 1..pages, for lists that count rows their own way."""
    pages = page_count(total, per_page)
    return min(max(page, 1), pages), pages


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with what a pager and an API client need to go on."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    def numbers(self, around: int = 2) -> list[int | None]:
        """Page numbers to show: first, last and ``around`` either side of this one; None is a gap."""
        shown = sorted({1, self.pages, *range(max(self.page - around, 1), min(self.page + around, self.pages) + 1)})
        out: list[int | None] = []
        for number in shown:
            if out and number - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number)
        return out


def paginate(session: Session, stmt: Select, *, page: int = 1, per_page: int, clamp: bool = True,
             scalars: bool = True) -> Page:
    """Run ``stmt`` (already ordered) for one page.

    ``clamp``: a page past the last shows the last one (pages a person follows); without it such
    a page is empty, with the totals (API clients that page until an empty page).
    """
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(page, 1), MAX_PAGE)
    if clamp:
        page = min(page, page_count(total, per_page))
    offset = (page - 1) * per_page
    if offset >= total:
        return Page([], page, per_page, total)
    result = session.execute(stmt.limit(per_page).offset(offset))
    items = result.scalars().all() if scalars else result.all()
    return Page(items, page, per_page, total)
