"""Database lifecycle: engine, sessions, migrations and first-use seeding.

`Database(url)` is cheap to build; `init()` runs the Alembic migrations and fills
an empty database with the bundled pack. SQLite (the default) runs in WAL mode
so the web app and the command line can share one file.
"""
from __future__ import annotations

import os
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import pack
from .models import Clause

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration. A test checks it equals Alembic's head; knowing it here lets a
# started database skip importing Alembic (half a second of every cold start).
SCHEMA_HEAD = "0006"
# The revisions this code knows, oldest first (file names start with the revision id): a database
# stamped with any other revision was migrated by newer code.
KNOWN_REVISIONS = tuple(sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")))
UPGRADE_COMMAND = "flask --app webhooks db upgrade"
_init_lock = threading.Lock()
# A database error's message lists the statement's parameters: questions, user ids, phone numbers.
# It reaches the logs with every traceback, so the parameters are left out of it.
HIDE_PARAMETERS = True


class SchemaError(RuntimeError):
    """The database's schema is not the one this code was written for; the message says what to do."""


def schema_problem(revision: str | None, has_tables: bool) -> str | None:
    """What is wrong with a database at `revision` for this code, in a sentence an operator can act on."""
    if revision == SCHEMA_HEAD:
        return None
    if revision is None:
        if has_tables:
            return (f"the database has tables but no schema revision (alembic_version): it was not created by "
                    f"jiuye, or its stamp was lost. Point JIUYE_DATABASE_URL at jiuye's database.")
        return f"the database is empty (no schema). Create it with `{UPGRADE_COMMAND}`."
    if revision not in KNOWN_REVISIONS:
        return (f"the database schema is at revision {revision}, newer than this code ({SCHEMA_HEAD}): it was "
                f"upgraded by a newer release. Deploy that release again, or restore a backup taken before it.")
    return (f"the database schema is at revision {revision}, this code needs {SCHEMA_HEAD}. Back it up "
            f"(flask --app webhooks backup FILE), then run `{UPGRADE_COMMAND}` once, before starting the workers.")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=HIDE_PARAMETERS)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A database that is down must fail a request fast (the edge answers 503 and WeChat a short
    # text), not hold a worker thread: bounded connect and pool waits. pre_ping replaces
    # connections the server dropped (restart, pg_terminate_backend) before they are used.
    # (Pinging only connections that sat idle saved one round trip per message, ~2% of its CPU,
    # but the first request after a drop then failed: the fault tests want the service to
    # recover by itself, so every checkout is checked.)
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, pool_timeout=10, connect_args=connect_args,
                         hide_parameters=HIDE_PARAMETERS)


def _forget_pool_in_child(ref: "weakref.ref[Database]"):
    def forget() -> None:
        database = ref()
        if database is not None:
            database.engine.dispose(close=False)
    return forget


class Database:
    """One database. `auto_migrate` (the default, and what an embedded SQLite file wants) brings an
    empty or older schema up to date on first use; with it off (AUTO_MIGRATE = false, for a server
    database that several workers and hosts share) the schema is upgraded only by `db upgrade`, and
    a database behind the code refuses to be used, with a message saying so (`SchemaError`)."""

    def __init__(self, url: str, data_dir: Path | None = None, auto_migrate: bool = True):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.data_dir = data_dir or pack.DATA_DIR
        self.auto_migrate = auto_migrate
        self._ready = False
        # A forked child (a gunicorn worker of a preloading master) must never use a connection
        # of its parent's pool: the two processes would talk over one socket. SQLAlchemy's advice
        # for os.fork: the child drops the pool without closing those connections (closing them
        # would end the parent's sessions) and opens its own.
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forget_pool_in_child(weakref.ref(self)))

    @property
    def backend(self) -> str:
        """sqlite, postgresql, …: what a health check or a log may say (never the URL or password)."""
        return self.engine.dialect.name

    def schema_status(self) -> tuple[str | None, str | None]:
        """(the database's revision, what is wrong with it or None)."""
        from sqlalchemy import inspect

        revision = self.schema_revision()
        has_tables = False
        if revision is None:
            with self.engine.connect() as conn:
                has_tables = bool(inspect(conn).get_table_names())
        return revision, schema_problem(revision, has_tables)

    def check_schema(self) -> None:
        """Raise SchemaError unless the schema is exactly this code's."""
        _revision, problem = self.schema_status()
        if problem:
            raise SchemaError(problem)

    def migrate(self) -> None:
        # Imported here: Alembic costs half a second of start-up and is only needed
        # when the schema is behind.
        revision = self.schema_revision()
        if revision == SCHEMA_HEAD:
            return
        if revision is not None and revision not in KNOWN_REVISIONS:
            raise SchemaError(schema_problem(revision, True) or "")  # Alembic cannot go back; say why
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
            if self.auto_migrate:
                self.migrate()
            else:
                self.check_schema()
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

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to this code's schema and seed or merge the bundled pack: the deployment step.
        Returns (revision before, revision after)."""
        before = self.schema_revision()
        auto, self.auto_migrate, self._ready = self.auto_migrate, True, False
        try:
            self.init()
        finally:
            self.auto_migrate = auto
        return before, self.schema_revision() or ""

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
