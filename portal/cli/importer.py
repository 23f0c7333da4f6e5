"""`flask --app wsgi import orders FILE.csv` (being written)."""
import click

group = click.Group("import", help="Import data from CSV files.")
