"""`flask --app wsgi notifications send` (being written)."""
import click

group = click.Group("notifications", help="The notification outbox.")
