"""`flask --app wsgi notifications send [--limit N]`"""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal.core.errors import ServiceError
from portal.db import session_scope
from portal.notifications import mailers, outbox

group = click.Group("notifications", help="The notification outbox.")


@group.command("send")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many.")
@with_appcontext
def send(limit: int | None):
    """Deliver pending notifications (email, or a task for the account manager); safe to rerun."""
    try:
        mailer = mailers.mailer_from_settings(current_app.config)
    except ServiceError as err:
        raise click.UsageError(str(err)) from None
    if isinstance(mailer, mailers.LogMailer):
        click.echo(_("SMTP_HOST is not set: emails are written to the log, not sent."), err=True)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=_("Sending notifications"),
                                    show_pos=True, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    with session_scope() as session:
        try:
            summary = outbox.send_pending(session, mailer=mailer, limit=limit,
                                                 progress=progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    click.echo(_("Emails sent: %(n)d", n=summary.sent))
    click.echo(_("Tasks created: %(n)d", n=summary.tasks))
    click.echo(_("Skipped (partner wants no notifications): %(n)d", n=summary.skipped))
    click.echo(_("Failed, will be retried: %(n)d", n=summary.retrying))
    click.echo(_("Failed for good after %(max)d attempts: %(n)d",
                 max=outbox.MAX_ATTEMPTS, n=summary.failed))
