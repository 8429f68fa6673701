"""Periodic purge of old runtime records, and `flask --app webhooks purge`.

Each serving process purges at most every RETENTION.PURGE_EVERY_MINUTES, in a background
thread started after a request (so no request waits for it), the first time one interval
after the process started. Several workers or hosts may purge at about the same time: the
deletes are idempotent. A cron job running the command does the same on a schedule.
"""
from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, Response, current_app
from flask.cli import with_appcontext

from knowledge.retention import RetentionPolicy, purge

log = logging.getLogger(__name__)
EXTENSION = "jiuye.housekeeping"


class Housekeeper:
    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.Lock()
        self.next_at = time.monotonic() + self.interval()

    def interval(self) -> float:
        try:
            minutes = float((self.app.config.get("RETENTION") or {}).get("PURGE_EVERY_MINUTES", 60))
        except (TypeError, ValueError):
            minutes = 60.0
        return minutes * 60 if minutes > 0 else float("inf")

    def maybe_start(self) -> None:
        """Start a purge in the background when one is due and none is running."""
        if time.monotonic() < self.next_at or not self.lock.acquire(blocking=False):
            return
        self.next_at = time.monotonic() + self.interval()
        threading.Thread(target=self._run, name="jiuye-purge", daemon=True).start()

    def _run(self) -> None:
        try:
            with self.app.app_context():
                counts = run_purge()
            log.info("retention purge: %s", counts)
        except Exception:  # noqa: BLE001 — the next interval tries again
            log.exception("retention purge failed")
        finally:
            self.lock.release()


def run_purge() -> dict[str, int]:
    """Purge now with the app's RETENTION settings (inside an app context)."""
    from .db import get_db

    with get_db().session() as s:
        return purge(s, RetentionPolicy.from_settings(current_app.config))


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete question logs, conversations and WeChat records older than the RETENTION settings."""
    counts = run_purge()
    click.echo("purged: " + ", ".join(f"{name} {n}" for name, n in counts.items()))


def init_app(app: Flask) -> None:
    keeper = app.extensions[EXTENSION] = Housekeeper(app)
    app.cli.add_command(purge_command)

    @app.after_request
    def purge_when_due(response: Response) -> Response:
        keeper.maybe_start()
        return response
