"""`flask --app wsgi demo load|logins`"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from portal.core.errors import ServiceError
from portal.db import session_scope
from portal.demo import loader as demo

group = click.Group("demo", help="Demo data.")


@group.command("load")
@click.option("--partners", default=40, show_default=True, help="How many partner companies.")
@click.option("--years", default=3, show_default=True, help="Years of order history.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same data).")
@click.option("--force", is_flag=True, help="Wipe a database that has data, then load.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database has data.")
@with_appcontext
def load(partners: int, years: int, seed: int, force: bool, if_empty: bool):
    """Fill an empty database with demo partners, catalog, users and order history."""
    with session_scope() as session:
        if if_empty and not demo.database_is_empty(session):
            click.echo("The database has data already; demo data not loaded.")
            return
        bar = None
        labels = {"orders": "Generating order history", "standing orders": "Running standing orders",
                  "referrals": "Adding referrals"}
        current = None

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal bar, current
            if stage != current and bar is not None:
                bar.__exit__(None, None, None)
                bar = None
            if bar is None:
                current = stage
                bar = click.progressbar(length=total, label=labels.get(stage, stage),
                                        show_pos=True, file=sys.stderr)
                bar.__enter__()
            bar.update(done - bar.pos)

        try:
            result = demo.load(session, partners=partners, years=years, seed=seed, force=force,
                               progress=progress)
        except ServiceError as err:
            raise click.UsageError(str(err)) from None
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    click.echo(
        f"Loaded {result.partners} partners, {result.products} products, {result.users} users, "
        f"{result.orders} orders with {result.lines} lines."
    )


@group.command("logins")
def logins():
    """Print the demo sign-ins."""
    click.echo(f"Demo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role, what in demo.DEMO_LOGINS:
        click.echo(f"  {email:<22} {role:<16} {what}")
    click.echo("Open http://127.0.0.1:5000")
