"""Conversations in the database: one row per person, changed atomically, turn by turn.

A turn reads the row (created with an upsert when it is missing, so two first messages at
once both find it), computes the reply, and writes the new state only if the row's version
is still the one it read (a compare-and-set). When another message of the same person
committed in between, the turn is computed again on the newer state: two messages at once
are applied one after the other and neither is lost. On SQLite a write that would use a
stale snapshot is refused by the database itself ("database is locked"); that is a conflict
too. Nothing is locked while the reply is computed.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.models import Conversation

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 6


class Conflict(Exception):
    """The conversation changed while a turn was computed; the turn is run again."""


@dataclass
class Row:
    """What a turn reads of the conversation and may change."""

    user: str
    state: dict[str, Any]
    locale: str
    version: int


def _upsert(session: Session, user: str, locale: str) -> None:
    """Create the conversation row unless it exists (ON CONFLICT DO NOTHING on both databases)."""
    values = dict(user=user, locale=locale, state={}, version=0,
                  updated_at=dt.datetime.now(dt.timezone.utc))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(Conversation).values(**values).on_conflict_do_nothing(index_elements=["user"]))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(Conversation).values(**values).on_conflict_do_nothing(index_elements=["user"]))
    else:  # pragma: no cover - other databases are not supported, but stay correct
        if session.get(Conversation, user) is None:
            session.execute(insert(Conversation).values(**values))


def _is_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text


class ConversationStore:
    def __init__(self, db: Database):
        self.db = db

    def _read(self, session: Session, user: str) -> Row | None:
        row = session.execute(select(Conversation.state, Conversation.locale, Conversation.version)
                              .where(Conversation.user == user)).first()
        if row is None:
            return None
        state = row.state if isinstance(row.state, dict) else {}
        return Row(user, state, row.locale or "zh", int(row.version or 0))

    def set_locale(self, user: str, locale: str) -> None:
        """Keep `locale` as the person's language (the web page's language switch), without a turn."""
        with self.db.session() as session:
            if self._read(session, user) is None:
                _upsert(session, user, locale)
            session.execute(update(Conversation).where(Conversation.user == user)
                            .values(locale=locale, version=Conversation.version + 1,
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
                    row = self._read(session, user)
                    if row is None:
                        _upsert(session, user, locale)
                        session.commit()  # a short transaction of its own: the row exists for everyone
                        row = self._read(session, user)
                        assert row is not None
                    result, new = compute(session, row)
                    changed = session.execute(
                        update(Conversation)
                        .where(Conversation.user == user, Conversation.version == row.version)
                        .values(state=new.state, locale=new.locale, version=row.version + 1,
                                updated_at=dt.datetime.now(dt.timezone.utc))
                    ).rowcount
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
