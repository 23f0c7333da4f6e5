"""Command-line tools: `flask --app wsgi <group> <command>`."""
