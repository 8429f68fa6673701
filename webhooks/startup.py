"""What a server worker does before it takes its first request (gunicorn's post_worker_init).

A worker that cannot serve — a database schema behind or ahead of its code — refuses to start with
a message saying what to run, rather than answering 503s; gunicorn then stops with "Worker failed
to boot". The flask command line never runs this, so `flask --app webhooks db upgrade` still works
on a database that is behind.
"""
from __future__ import annotations

from flask import Flask

from knowledge.db import SchemaError

from .db import get_db, get_engine


def warm_up(app: Flask) -> None:
    """Open the database (schema checked, or migrated where AUTO_MIGRATE allows) and build the engine."""
    with app.app_context():
        try:
            get_db()
        except SchemaError as exc:
            app.logger.critical("refusing to start: %s", exc)
            raise
        get_engine()
