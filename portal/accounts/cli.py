"""`flask --app wsgi users create ...` and `partners create|set-status ...`"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from portal.accounts import people
from portal.accounts.models import PARTNER_STATUSES, ROLES
from portal.core.errors import ServiceError
from portal.db import session_scope

users_group = click.Group("users", help="Manage users.")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--partner", "partner_code", help="Partner code (required for partner roles).")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(email: str, role: str, partner_code: str | None, name: str, password_stdin: bool):
    """Create a user; asks for the password unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        try:
            user = people.create_user(session, email=email, password=password, role=role,
                                      name=name, partner_code=partner_code)
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")


partners_group = click.Group("partners", help="Manage partner companies.")


@partners_group.command("create")
@click.option("--name", required=True)
@click.option("--code", required=True)
@click.option("--tier", "tier_name", help="Price tier name.")
@click.option("--manager", "manager_email", help="Email of the account manager.")
@with_appcontext
def create_partner(name: str, code: str, tier_name: str | None, manager_email: str | None):
    """Create a partner company."""
    with session_scope() as session:
        try:
            partner = people.create_partner(session, name=name, code=code, tier_name=tier_name,
                                            manager_email=manager_email)
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
        click.echo(f"Created partner {partner.code} {partner.name!r} (id {partner.id}).")


@partners_group.command("set-status")
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


groups = [users_group, partners_group]
