"""`flask --app wsgi partners create|set-status ...`"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.db import session_scope
from portal.models import PARTNER_STATUSES
from portal.services import people
from portal.services.errors import ServiceError

group = click.Group("partners", help="Manage partner companies.")


@group.command("create")
@click.option("--name", required=True)
@click.option("--code", required=True)
@click.option("--tier", "tier_name", help="Price tier name.")
@click.option("--manager", "manager_email", help="Email of the account manager.")
@with_appcontext
def create(name: str, code: str, tier_name: str | None, manager_email: str | None):
    """Create a partner company."""
    with session_scope() as session:
        try:
            partner = people.create_partner(session, name=name, code=code, tier_name=tier_name,
                                            manager_email=manager_email)
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
        click.echo(f"Created partner {partner.code} {partner.name!r} (id {partner.id}).")


@group.command("set-status")
@click.option("--code", required=True, help="Partner code.")
@click.option("--status", required=True, type=click.Choice(PARTNER_STATUSES))
@with_appcontext
def set_status(code: str, status: str):
    """Make a partner active, paused or churned; leaving active signs its users out at once."""
    with session_scope() as session:
        try:
            partner = people.set_partner_status(session, code=code, status=status)
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
        click.echo(f"Partner {partner.code} is {partner.status} now.")
