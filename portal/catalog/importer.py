"""The catalog CSV import: every row valid, or nothing imported."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import admin
from portal.catalog.models import Product
from portal.core import audit
from portal.core.access import SYSTEM, Actor
from portal.core.csvfile import numbered_records
from portal.core.errors import ServiceError
from portal.core.vat import DEFAULT_VAT_RATE

IMPORT_COLUMNS = ("sku", "name", "category", "unit", "pack_size", "base_price")
IMPORT_OPTIONAL = ("active", "vat_rate")
MAX_IMPORT_ERRORS = 1000
TRUE_WORDS = {"1", "true", "yes", "y", "t", "active"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "inactive"}


class CatalogImportRejected(ServiceError):
    """The file has bad rows; ``errors`` lists them with their line numbers."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message, field="file")
        self.errors = errors


@dataclass
class CatalogImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_skus: list[str] = field(default_factory=list)
    changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _records(text: str):
    """(first line number, cells) per non-blank CSV record."""
    return numbered_records(io.StringIO(text.lstrip("\ufeff"), newline=""), field="file")


def _header(records) -> dict[str, int]:
    first = next(records, None)
    wanted = ",".join(IMPORT_COLUMNS) + "[,active][,vat_rate]"
    if first is None:
        raise ServiceError(_("The file is empty: the first line must name the columns %(cols)s.",
                             cols=wanted), field="file")
    names = [cell.strip().lower() for cell in first[1]]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ServiceError(_("The header names a column twice: %(cols)s.",
                             cols=", ".join(duplicated)), field="file")
    missing = [c for c in IMPORT_COLUMNS if c not in names]
    unknown = [n for n in names if n not in IMPORT_COLUMNS + IMPORT_OPTIONAL]
    if missing or unknown:
        raise ServiceError(_("Line %(n)d: the header must name the columns %(cols)s (missing: "
                             "%(missing)s; unknown: %(unknown)s).", n=first[0], cols=wanted,
                             missing=", ".join(missing) or "—", unknown=", ".join(unknown) or "—"),
                           field="file")
    return {name: i for i, name in enumerate(names)}


def _parse_row(cells: list[str], columns: dict[str, int]) -> tuple[admin.ProductData | None, list[str]]:
    """The row's product, or every problem of the row."""
    if len(cells) != len(columns):
        return None, [_("expected %(want)d fields, found %(got)d", want=len(columns),
                        got=len(cells))]
    raw = {name: cells[i].strip() for name, i in columns.items()}
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, check in admin.PRODUCT_CHECKS.items():
        try:
            values[name] = check(raw[name])
        except ServiceError as err:
            shown = raw[name] if len(raw[name]) <= 40 else raw[name][:40] + "…"
            problems.append(f'{name} "{shown}": {err}' if shown else f"{name}: {err}")
    active: bool | None = None
    if raw.get("active"):
        word = raw["active"].lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            active = word in TRUE_WORDS
        else:
            problems.append(_("active \"%(value)s\": use yes/no, true/false or 1/0",
                              value=raw["active"][:40]))
    vat_rate = None
    if raw.get("vat_rate"):
        try:
            vat_rate = admin.check_vat_rate(raw["vat_rate"])
        except ServiceError as err:
            problems.append(f'vat_rate "{raw["vat_rate"][:40]}": {err}')
    if problems:
        return None, problems
    return admin.ProductData(**values, active=active, vat_rate=vat_rate), []


def import_catalog(
    session: Session, text: str, *, actor: Actor = SYSTEM
) -> CatalogImportResult:
    """Create and update products from CSV text: every row valid, or nothing imported."""
    records = _records(text)
    columns = _header(records)
    rows: list[admin.ProductData] = []
    errors: list[str] = []
    bad = 0
    seen: dict[str, int] = {}
    for line, cells in records:
        data, problems = _parse_row(cells, columns)
        if data is not None:
            if data.sku in seen:
                problems.append(_("SKU %(sku)s is already on line %(line)d", sku=data.sku,
                                  line=seen[data.sku]))
            else:
                seen[data.sku] = line
        if problems:
            bad += 1
            if len(errors) < MAX_IMPORT_ERRORS:
                errors.append(_("Line %(n)d: %(error)s.", n=line, error="; ".join(problems)))
        elif data is not None:
            rows.append(data)
    total = len(rows) + bad
    if total == 0:
        raise ServiceError(_("The file has a header but no rows; nothing was imported."),
                           field="file")
    if bad:
        if bad > len(errors):
            errors.append(_("…and %(n)d more.", n=bad - len(errors)))
        raise CatalogImportRejected(
            _("%(n)d of %(rows)d rows have errors; nothing was imported.", n=bad, rows=total),
            errors)
    existing = {admin.normalize_sku(p.sku): p for p in session.scalars(select(Product))}
    result = CatalogImportResult(rows=total)
    for data in rows:
        product = existing.get(data.sku)
        if product is None:
            session.add(Product(sku=data.sku, name=data.name, category=data.category,
                                unit=data.unit, pack_size=data.pack_size,
                                base_price=data.base_price,
                                vat_rate=DEFAULT_VAT_RATE if data.vat_rate is None else data.vat_rate,
                                active=True if data.active is None else data.active))
            result.created += 1
            result.created_skus.append(data.sku)
            continue
        data.sku = product.sku  # keep the stored spelling
        changes = admin.apply_changes(product, data)
        if changes:
            result.updated += 1
            result.changes[product.sku] = changes
        else:
            result.unchanged += 1
    admin.flush_unique(session, _("Another import or edit changed the catalog at the same time; "
                             "nothing was imported. Try again."), "file")
    audit.record(session, "catalog_imported", actor_id=actor.user_id, rows=result.rows,
                 created=result.created, updated=result.updated, unchanged=result.unchanged,
                 created_skus=result.created_skus, changes=result.changes)
    session.commit()
    return result
