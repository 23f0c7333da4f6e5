"""`flask --app wsgi partners create ...`"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.db import session_scope
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
