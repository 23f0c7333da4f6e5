"""`flask --app wsgi recurring run [--today YYYY-MM-DD]`: generate the standing orders due."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal.db import session_factory
from portal.recurring import engine

group = click.Group("recurring", help="Standing orders.")


@group.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Generate as if today were this day (default: today in TRELLIS_TIMEZONE).")
@with_appcontext
def run(today):
    """Place every standing order due up to today, exactly once; safe to run again or twice at once.

    Exits 0 when occurrences failed (they are in the ledger and the partners are told); non-zero
    only when the run itself broke.
    """
    day: date = today.date() if today else engine.today_in(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    factory = session_factory()
    with factory() as session:
        ids = engine.due_ids(session, day)
    with click.progressbar(length=len(ids), label=_("Standing orders due"), file=sys.stderr,
                           show_pos=True) as bar:
        summary = engine.generate_due(factory, day, ids=ids, progress=bar.update)
    click.echo(_("%(day)s — placed: %(created)d, skipped: %(skipped)d, paused: %(paused)d, "
                 "failed: %(failed)d, missed: %(missed)d (standing orders: %(schedules)d).",
                 day=day.isoformat(), created=summary.created, skipped=summary.skipped,
                 paused=summary.paused, failed=summary.failed, missed=summary.missed,
                 schedules=summary.schedules))
    for schedule_id, when, reason in summary.failures[:20]:
        click.echo(_("  failed: standing order %(id)d on %(date)s: %(reason)s", id=schedule_id,
                     date=when.isoformat(), reason=reason), err=True)


def _day(today) -> date:
    return today.date() if today else engine.today_in(current_app.config["BABEL_DEFAULT_TIMEZONE"])


@group.command("drafts")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Prepare as if today were this day (default: today in TRELLIS_TIMEZONE).")
@with_appcontext
def drafts_command(today):
    """Make the review drafts of review-mode standing orders whose date is within the partner's
    review lead days; one draft per date, however often it runs."""
    from portal.recurring import drafts

    day, factory = _day(today), session_factory()
    with factory() as session:
        ids = drafts.candidate_ids(session, day)
    with click.progressbar(length=len(ids), label=_("Review-mode standing orders"), file=sys.stderr,
                           show_pos=True) as bar:
        summary = drafts.prepare(factory, day, ids=ids, progress=bar.update)
    click.echo(_("%(day)s — drafts made: %(created)d, partners told: %(notices)d (standing orders "
                 "looked at: %(schedules)d).", day=day.isoformat(), created=summary.created,
                 notices=summary.notices, schedules=summary.schedules))


@group.command("remind")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Remind as if today were this day (default: today in TRELLIS_TIMEZONE).")
@with_appcontext
def remind_command(today):
    """Queue the reminders of the dates exactly the partner's reminder days ahead (once per date;
    `flask notifications send` or the Celery beat delivers them)."""
    from portal.recurring import reminders

    day, factory = _day(today), session_factory()
    with factory() as session:
        ids = reminders.candidate_ids(session, day)
    with click.progressbar(length=len(ids), label=_("Standing orders to remind"), file=sys.stderr,
                           show_pos=True) as bar:
        summary = reminders.send_reminders(factory, day, ids=ids, progress=bar.update)
    click.echo(_("%(day)s — reminders queued: %(queued)d, queued before: %(already)d, partners "
                 "without notifications: %(silent)d, told by their review draft instead: %(replaced)d "
                 "(standing orders looked at: %(schedules)d).",
                 day=day.isoformat(), queued=summary.queued, already=summary.already,
                 silent=summary.silent, replaced=summary.replaced, schedules=summary.schedules))
