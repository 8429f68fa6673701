"""Database and engine lifecycle for the app: one Database and one Engine per app."""
from __future__ import annotations

import click
from flask import Flask, current_app

from bot.engine import Engine
from knowledge.db import Database
from knowledge.runtime import Knowledge


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"])
    app.extensions["jiuye.db"] = database
    app.extensions["jiuye.engine"] = None
    app.extensions["jiuye.knowledge"] = None
    app.cli.add_command(init_db_command)
    app.cli.add_command(export_command)


def get_db() -> Database:
    return current_app.extensions["jiuye.db"].init()


def get_knowledge() -> Knowledge:
    """The app's in-memory knowledge pack (snapshot + matcher), shared by the engine and the pages."""
    knowledge = current_app.extensions.get("jiuye.knowledge")
    if knowledge is None:
        threshold = current_app.config.get("MATCH_THRESHOLD")
        knowledge = Knowledge(get_db(), float(threshold) if threshold not in (None, "") else None)
        current_app.extensions["jiuye.knowledge"] = knowledge
    return knowledge


def get_engine() -> Engine:
    """The app's engine, built on first use (the matcher index takes a moment)."""
    engine = current_app.extensions.get("jiuye.engine")
    if engine is None:
        engine = Engine(get_db(), current_app.config, knowledge=get_knowledge())
        current_app.extensions["jiuye.engine"] = engine
    return engine


def close_connections(app: Flask) -> None:
    """Close the app's pooled database connections (gunicorn's master before it forks workers:
    each worker opens its own; a connection used by two processes corrupts both)."""
    database = app.extensions.get("jiuye.db")
    if database is not None:
        database.dispose()


@click.command("init-db")
def init_db_command() -> None:
    """Create the tables and load the bundled knowledge pack (if empty)."""
    get_db()
    click.echo("database ready")


@click.command("export-pack")
@click.argument("directory", type=click.Path(file_okay=False))
def export_command(directory: str) -> None:
    """Write the knowledge pack (with staff edits) to DIRECTORY as YAML."""
    from pathlib import Path

    from knowledge.pack import export

    with get_db().session() as s:
        export(s, Path(directory))
    click.echo(f"exported to {directory}")
