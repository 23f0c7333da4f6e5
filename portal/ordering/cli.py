"""`flask --app wsgi import orders FILE.csv`"""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal.core.errors import ServiceError
from portal.db import session_scope
from portal.ordering import history_import as importer

group = click.Group("import", help="Import data from CSV files.")


@group.command("orders", epilog="Columns: partner_code,order_date (YYYY-MM-DD),sku,quantity,"
               "unit_price and, optionally, order_ref. See docs/import-export.md.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def orders(file: Path):
    """Import delivered order history from FILE: all rows or none, and safe to run again."""
    started = time.monotonic()

    def progress(stage: str, rows: int) -> None:
        seconds = time.monotonic() - started
        if stage == "validated":
            click.echo(_("Validated %(rows)d rows (%(s).1f s)", rows=rows, s=seconds), err=True)
        else:
            click.echo(_("Imported %(rows)d rows (%(s).1f s)", rows=rows, s=seconds), err=True)

    with session_scope() as session:
        try:
            result = importer.import_orders(session, file, progress=progress)
        except importer.ImportRejected as err:
            raise click.UsageError("\n".join([str(err), *err.errors])) from None
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
    if result.ignored_columns:
        click.echo(_("Ignored columns: %(cols)s", cols=", ".join(result.ignored_columns)))
    click.echo(_("Rows read: %(n)d", n=result.rows))
    click.echo(_("Orders created: %(n)d", n=result.orders_created))
    click.echo(_("Orders given more lines: %(n)d", n=result.orders_updated))
    click.echo(_("Lines added: %(n)d", n=result.lines_added))
    click.echo(_("Lines skipped as already imported: %(n)d", n=result.lines_skipped))
