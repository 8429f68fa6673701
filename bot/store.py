"""Conversations in the database: one row per person, changed atomically, turn by turn.

A turn reads the row, computes the reply, and writes the new state only if the row's version
is still the one it read (a compare-and-set). A person without a row yet is computed from an
empty state and the row is inserted at the end (INSERT … ON CONFLICT DO NOTHING): when two
first messages arrive at once, one insert wins and the other turn sees a conflict. When
another message of the same person committed in between, the turn is computed again on the
newer state: two messages at once are applied one after the other and neither is lost. On
SQLite a write that would use a stale snapshot is refused by the database itself ("database is
locked"); that is a conflict too. Nothing is locked while the reply is computed.

Every question passes through here, so the statements are built once, as Core statements on
the table, and run on the session's connection: the ORM's per-statement work (building the
WHERE clause, the unit of work, identity map) cost more CPU than PostgreSQL's answer did.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from sqlalchemy import Connection, bindparam, insert, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.models import Conversation, Setting

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 6


class Conflict(Exception):
    """The conversation changed while a turn was computed; the turn is run again."""


@dataclass
class Row:
    """What a turn reads of the conversation and may change, whether the row exists yet, and the
    knowledge pack's version read in the same statement (None when not read)."""

    user: str
    state: dict[str, Any]
    locale: str
    version: int
    pack_version: int | None = None
    exists: bool = True


TABLE = Conversation.__table__
SETTINGS = Setting.__table__
# The conversation (if any) and the pack version, in one round trip: a one-row select outer-
# joined to the person's row, with the version as a scalar subquery.
_ONE = select(literal(1).label("one")).subquery("one")
_READ = (select(select(SETTINGS.c.value).where(SETTINGS.c.key == "pack_version").scalar_subquery().label("pack"),
                TABLE.c.user, TABLE.c.state, TABLE.c.locale, TABLE.c.version)
         .select_from(_ONE.outerjoin(TABLE, TABLE.c.user == bindparam("b_user"))))
# Bind names differ from the column names: SQLAlchemy reserves those for the SET clause.
_WRITE = (update(TABLE).where(TABLE.c.user == bindparam("b_user"), TABLE.c.version == bindparam("b_version"))
          .values(state=bindparam("b_state"), locale=bindparam("b_locale"), version=bindparam("b_new_version"),
                  updated_at=bindparam("b_now")))


def _insert_unless_exists(dialect: str):
    """INSERT of a new conversation row that does nothing if the row exists (both databases)."""
    values = dict(user=bindparam("b_user"), locale=bindparam("b_locale"), state=bindparam("b_state"),
                  version=bindparam("b_new_version"), updated_at=bindparam("b_now"))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - other databases are not supported
        return None
    # rowcount says whether the row was inserted (1) or existed (0); SQLAlchemy keeps it for
    # INSERT only when asked to.
    return (dialect_insert(TABLE).values(**values).on_conflict_do_nothing(index_elements=["user"])
            .execution_options(preserve_rowcount=True))


def _upsert(conn: Connection, user: str, locale: str) -> None:
    """Create the conversation row unless it exists, at version 0 (ON CONFLICT DO NOTHING)."""
    statement = _insert_unless_exists(conn.dialect.name)
    params = dict(b_user=user, b_locale=locale, b_state={}, b_new_version=0, b_now=dt.datetime.now(dt.timezone.utc))
    if statement is not None:
        conn.execute(statement, params)
    elif conn.execute(_READ, {"b_user": user}).first() is None:  # pragma: no cover
        conn.execute(insert(TABLE).values(user=user, locale=locale, state={}, version=0,
                                          updated_at=params["b_now"]))


def _is_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text


class ConversationStore:
    def __init__(self, db: Database):
        self.db = db
        self._insert = _insert_unless_exists(db.engine.dialect.name)

    def _read(self, session: Session | Connection, user: str) -> Row | None:
        """The person's row (None if there is none yet); see `read`."""
        row = self.read(session, user)
        return row if row.exists else None

    def read(self, session: Session | Connection, user: str) -> Row:
        """The person's conversation with the pack version (an empty one, `exists` false, if none)."""
        conn = session.connection() if isinstance(session, Session) else session
        found = conn.execute(_READ, {"b_user": user}).one()
        pack = int(found.pack) if found.pack is not None else 0
        if found.user is None:
            return Row(user, {}, "zh", 0, pack, exists=False)
        state = found.state if isinstance(found.state, dict) else {}
        return Row(user, state, found.locale or "zh", int(found.version or 0), pack)

    def set_locale(self, user: str, locale: str) -> None:
        """Keep `locale` as the person's language (the web page's language switch), without a turn."""
        with self.db.session() as session:
            conn = session.connection()
            if self._read(conn, user) is None:
                _upsert(conn, user, locale)
            conn.execute(update(TABLE).where(TABLE.c.user == user)
                         .values(locale=locale, version=TABLE.c.version + 1,
                                 updated_at=dt.datetime.now(dt.timezone.utc)))

    def locale_of(self, user: str) -> str | None:
        with self.db.session() as session:
            row = self._read(session, user)
        return row.locale if row is not None else None

    def turn(self, user: str, locale: str, compute: Callable[[Session, Row], tuple[T, Row]]) -> T:
        """Run `compute` on the person's conversation and commit what it returns, atomically.

        `compute(session, row)` returns (result, new row); it may add rows of its own (the
        question log) to the session: they commit with the state, or not at all. It must have
        no other side effects, because a conflict runs it again.
        """
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.db.session() as session:
                    conn = session.connection()
                    row = self.read(conn, user)
                    exists = row.exists
                    if not exists:
                        # No row yet: computed from an empty state, inserted at the end unless
                        # another first message of this person inserted it meanwhile (a conflict).
                        row.locale = locale
                        if self._insert is None:  # pragma: no cover - other databases
                            _upsert(conn, user, locale)
                            exists = True
                    result, new = compute(session, row)
                    params = dict(b_user=user, b_version=row.version, b_state=new.state, b_locale=new.locale,
                                  b_new_version=row.version + 1, b_now=dt.datetime.now(dt.timezone.utc))
                    changed = conn.execute(_WRITE if exists else self._insert, params).rowcount
                    if changed != 1:
                        raise Conflict(user)
                return result
            except Conflict:
                log.info("conversation %s changed during a turn; running it again", user[:24])
            except OperationalError as exc:
                if not _is_conflict(exc) or attempt == MAX_ATTEMPTS - 1:
                    raise
                log.info("conversation %s: database busy (%s); running the turn again", user[:24],
                         exc.__class__.__name__)
            time.sleep(0.005 * (attempt + 1))
        raise Conflict(user)
