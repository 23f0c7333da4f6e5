"""`flask --app wsgi users create ...`"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from portal.db import session_scope
from portal.models import ROLES
from portal.services import people
from portal.services.errors import ServiceError

group = click.Group("users", help="Manage users.")


@group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--partner", "partner_code", help="Partner code (required for partner roles).")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(email: str, role: str, partner_code: str | None, name: str, password_stdin: bool):
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
