"""Reading uploaded CSV: numbered records, one clear message for a broken file."""
from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _

from portal.core.errors import ServiceError


def numbered_records(lines: Iterable[str], *, field: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record, skipping blank ones; a record that is not valid
    CSV (say, an unclosed quote) raises ServiceError naming its line, before anything is saved."""
    reader = csv.reader(lines, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ServiceError(_("Line %(n)d is not valid CSV (%(error)s); nothing was imported.",
                                 n=start, error=str(err)), field=field) from None
        if any(cell.strip() for cell in cells):
            yield start, cells
