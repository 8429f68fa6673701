"""Database and engine lifecycle for the app: one Database and one Engine per app."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

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
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


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
@with_appcontext
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
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False))
def export_command(directory: str) -> None:
    """Write the knowledge pack (with staff edits) to DIRECTORY as YAML."""
    from pathlib import Path

    from knowledge.pack import export

    with get_db().session() as s:
        export(s, Path(directory))
    click.echo(f"exported to {directory}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write the whole database (every table) to PATH, a ZIP any backend can restore."""
    from pathlib import Path

    from knowledge.backup import BackupError, backup, describe

    # The Database as configured, not get_db(): a backup must not seed or merge the pack first.
    database: Database = current_app.extensions["jiuye.db"]
    try:
        manifest = backup(database, Path(path))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for entry in manifest["tables"]:
        click.echo(f"  {entry['name']:<18} {entry['rows']:>9}")
    click.echo(f"{describe(manifest)} -> {path} ({Path(path).stat().st_size // 1024} KiB)")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="replace a database that already holds conversations, edits or accounts")
@with_appcontext
def restore_command(path: str, force: bool) -> None:
    """Replace the whole configured database with the backup at PATH (checked first; one transaction)."""
    from pathlib import Path

    from knowledge.backup import BackupError, describe, restore

    database: Database = current_app.extensions["jiuye.db"]
    try:
        report = restore(database, Path(path), force=force)
    except BackupError as exc:
        raise click.ClickException(f"{exc}\nnothing was restored") from None
    click.echo(f"restored {describe(report.manifest)} into {report.backend}:")
    for name, rows in report.restored.items():
        before = report.replaced.get(name, 0)
        click.echo(f"  {name:<18} {rows:>9}" + (f"  (replaced {before})" if before else ""))
    click.echo(f"pack version now {report.pack_version}: running workers load the restored content "
               f"at their next request")
