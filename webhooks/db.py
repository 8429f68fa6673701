"""Database and engine lifecycle for the app: one Database and one Engine per app."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bot.engine import Engine
from knowledge.db import Database
from knowledge.runtime import Knowledge


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"], auto_migrate=bool(app.config.get("AUTO_MIGRATE", True)))
    app.extensions["jiuye.db"] = database
    app.extensions["jiuye.engine"] = None
    app.extensions["jiuye.knowledge"] = None
    app.cli.add_command(init_db_command)
    app.cli.add_command(db_group)
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


@click.command("init-db")
def init_db_command() -> None:
    """Create the tables and load the bundled knowledge pack (if empty)."""
    get_db()
    click.echo("database ready")


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """The database schema: upgrade it (a deployment step), or see where it stands."""


def _database() -> Database:
    return current_app.extensions["jiuye.db"]


@db_group.command("upgrade")
def db_upgrade_command() -> None:
    """Migrate the schema to this code's revision and load or merge the bundled knowledge pack.

    Run once per deployment, before the workers start (several workers on one database must not
    each migrate it). Safe to run again: an up-to-date database is left as it is."""
    from knowledge.db import SchemaError

    database = _database()
    try:
        before, after = database.upgrade()
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database ({database.backend}) schema: {before or 'empty'} -> {after}; knowledge pack loaded")


@db_group.command("current")
def db_current_command() -> None:
    """Print the database's schema revision and this code's; exit 1 when they differ."""
    from knowledge.db import SCHEMA_HEAD

    revision, problem = _database().schema_status()
    click.echo(f"database: {revision or 'empty'}  code: {SCHEMA_HEAD}")
    if problem:
        click.echo(problem, err=True)
        raise SystemExit(1)


@click.command("export-pack")
@click.argument("directory", type=click.Path(file_okay=False))
def export_command(directory: str) -> None:
    """Write the knowledge pack (with staff edits) to DIRECTORY as YAML."""
    from pathlib import Path

    from knowledge.pack import export

    with get_db().session() as s:
        export(s, Path(directory))
    click.echo(f"exported to {directory}")
