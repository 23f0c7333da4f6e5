"""`flask --app wsgi demo load|logins`"""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.core.errors import ServiceError
from portal.db import session_factory, session_scope
from portal.demo import loader as demo

group = click.Group("demo", help="Demo data.")


@group.command("load")
@click.option("--partners", default=40, show_default=True, help="How many partner companies.")
@click.option("--years", default=3, show_default=True, help="Years of order history.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same data).")
@click.option("--force", is_flag=True, help="Wipe a database that has data, then load.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database has data.")
@click.option("--forecast/--no-forecast", default=True, show_default=True,
              help="Make a first forecast run after loading.")
@with_appcontext
def load(partners: int, years: int, seed: int, force: bool, if_empty: bool, forecast: bool):
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
    if forecast:
        # A first forecast run, so the workspace opens on real forecasts (nightly after that).
        from portal.workspace import forecasts

        run = forecasts.refresh(session_factory(), time_zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
                                workers=1 if partners <= 20 else min(2, os.cpu_count() or 1), source="demo",
                                progress=_bar("Forecasting next year per partner"))
        click.echo(f"Forecast run {run.id}: {run.partner_count} partners, {run.failed_count} failed.")


def _bar(label: str):
    """A progress(done, total) callback drawing a bar on stderr (closed when done)."""
    state: dict = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)
        if done >= total:
            state.pop("bar").__exit__(None, None, None)

    return progress


@group.command("logins")
def logins():
    """Print the demo sign-ins."""
    click.echo(f"Demo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role, what in demo.DEMO_LOGINS:
        click.echo(f"  {email:<22} {role:<16} {what}")
    click.echo("Open http://127.0.0.1:5000")
