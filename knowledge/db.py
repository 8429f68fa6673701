"""Database lifecycle: engine, sessions, migrations and first-use seeding.

`Database(url)` is cheap to build; `init()` runs the Alembic migrations and fills
an empty database with the bundled pack. SQLite (the default) runs in WAL mode
so the web app and the command line can share one file.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import pack
from .models import Clause

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration. A test checks it equals Alembic's head; knowing it here lets a
# started database skip importing Alembic (half a second of every cold start).
SCHEMA_HEAD = "0006"
_init_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A database that is down must fail a request fast (the edge answers 503 and WeChat a short
    # text), not hold a worker thread: bounded connect and pool waits.
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    engine = create_engine(url, pool_timeout=10, connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused for this long is checked ("SELECT 1") before it is handed out.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Replace connections the server dropped (a restart, pg_terminate_backend, an idle timeout)
    before they are used — but only those that sat idle in the pool.

    SQLAlchemy's pool_pre_ping pings on every checkout: one more round trip for each message,
    about a tenth of a question's CPU time under load. A connection that was in use a moment
    ago is almost always alive; if the server did drop it, the statement fails, the request gets
    the usual 503 / "try again" and SQLAlchemy discards every connection older than that
    failure, so the next requests reconnect."""

    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn, record):  # noqa: ANN001
        record.info["jiuye.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # noqa: ANN001
        idle_since = record.info.get("jiuye.idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:  # noqa: BLE001 — any failure of the ping means the connection is gone
            alive = False
        if not alive:
            raise DisconnectionError("idle connection dropped by the server")  # the pool reconnects


def _forget_pool_in_child(ref: "weakref.ref[Database]"):
    def forget() -> None:
        database = ref()
        if database is not None:
            database.engine.dispose(close=False)
    return forget


class Database:
    def __init__(self, url: str, data_dir: Path | None = None):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.data_dir = data_dir or pack.DATA_DIR
        self._ready = False
        # A forked child (a gunicorn worker of a preloading master) must never use a connection
        # of its parent's pool: the two processes would talk over one socket. SQLAlchemy's advice
        # for os.fork: the child drops the pool without closing those connections (closing them
        # would end the parent's sessions) and opens its own.
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_pool_in_child(weakref.ref(self)))

    def migrate(self) -> None:
        # Imported here: Alembic costs half a second of start-up and is only needed
        # when the schema is behind.
        if self.schema_revision() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except Exception:
            # Another worker may have migrated the same database at the same moment.
            if self.schema_revision() != SCHEMA_HEAD:
                raise

    def schema_revision(self) -> str | None:
        from sqlalchemy import inspect, text

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def init(self) -> "Database":
        """Migrate; seed an empty database with the pack, or merge a newer pack into it (idempotent)."""
        if self._ready:
            return self
        with _init_lock:
            if self._ready:
                return self
            self.migrate()
            try:
                with self.session() as s:
                    if not s.scalar(select(func.count()).select_from(Clause)):
                        pack.seed(s, self.data_dir)
                    else:
                        # a newer bundled pack (after an upgrade): untouched entries follow it,
                        # staff edits are kept and listed for review in the console
                        pack.merge_if_changed(s, self.data_dir)
            except IntegrityError:
                # Another process seeded the empty database first; its pack is ours.
                with self.session() as s:
                    if not s.scalar(select(func.count()).select_from(Clause)):
                        raise
            self._ready = True
        return self

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
