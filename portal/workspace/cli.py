"""`flask --app wsgi forecasts refresh [--partners CODE,...] [--workers N]`: a new forecast run."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal.core.errors import ServiceError
from portal.db import session_factory
from portal.workspace import forecasts

group = click.Group("forecasts", help="Next-year forecasts per partner.")


def run_refresh(*, codes=None, workers: int = 1, source: str = "cli", label: str | None = None):
    """Refresh with a progress bar on stderr (the demo loader uses it too)."""
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label or _("Forecasting partners"),
                                    file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        return forecasts.refresh(session_factory(), time_zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                 codes=codes, workers=workers, source=source, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@group.command("refresh")
@click.option("--partners", default="", help="Only these partner codes, comma-separated (default: all).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes to fit in.")
@with_appcontext
def refresh(partners: str, workers: int):
    """Forecast the next 12 months of every partner and store them as a new run.

    A partner whose forecast fails is stored as failed with the reason; the others go on. Earlier
    runs are kept; pages show the latest complete one.
    """
    codes = [code.strip() for code in partners.split(",") if code.strip()] or None
    try:
        run = run_refresh(codes=codes, workers=workers)
    except ServiceError as err:
        raise click.UsageError(str(err)) from None
    click.echo(_("Forecast run %(id)d: %(count)d partners, %(failed)d failed, first month %(month)s.",
                 id=run.id, count=run.partner_count, failed=run.failed_count,
                 month=run.first_month.strftime("%Y-%m")))
