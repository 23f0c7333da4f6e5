"""`flask --app wsgi referrals rewards`: grant the referral rewards whose rule is met."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal.db import session_scope
from portal.referrals import rewards

group = click.Group("referrals", help="Referrals and their rewards.")


@group.command("rewards")
@with_appcontext
def grant():
    """Grant every pending referral reward whose rule is met (deliveries grant theirs at once;
    this catches up a rule changed since, or conversions from before rewards). Safe to rerun."""
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=_("Checking pending rewards"), show_pos=True,
                                    file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    with session_scope() as session:
        try:
            granted = rewards.grant_due(session, progress=progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    click.echo(_("Rewards granted: %(n)d", n=granted))
