"""Exactly-once processing of WeChat deliveries, across threads, processes and hosts.

WeChat retries a message it got no answer to (up to three times, ~5 s apart) and
may deliver the same message to two workers at once. Every delivery first tries
to INSERT its key into `wechat_messages`; the unique primary key lets exactly one
of them win:

- the winner ("owner") processes the message and stores the reply (status done);
- a loser polls until the reply is stored and answers the same bytes;
- a row still 'processing' after `stale_after` seconds belongs to a worker that
  died (a live one answers within the deadline), so a waiting delivery takes it
  over with a compare-and-swap on the owner token kept in `reply` while processing.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from knowledge.db import Database
from knowledge.models import WechatMessage

PROCESSING, DONE = "processing", "done"
OWNER_PREFIX = "owner:"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; we always write UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Claim:
    """The outcome of `begin`: we own the key (token), or the stored reply, or still busy."""

    owned: bool
    token: str = ""
    reply: str | None = None

    @property
    def busy(self) -> bool:
        return not self.owned and self.reply is None


class MessageStore:
    """Claims, waits for and stores replies in `wechat_messages`."""

    def __init__(self, db: Database, *, stale_after: float = 5.0, poll: float = 0.05,
                 keep_days: float = 2.0):
        self.db = db
        self.stale_after = stale_after
        self.poll = poll
        self.keep = dt.timedelta(days=keep_days)
        self._purged_at = 0.0
        self._purge_lock = threading.Lock()

    def begin(self, key: str, wait_until: float) -> Claim:
        """Claim `key`, or wait (until the monotonic time `wait_until`) for its owner's reply."""
        delay = self.poll
        while True:
            token = self._insert(key)
            if token:
                self._maybe_purge()
                return Claim(True, token)
            row = self._row(key)
            if row is not None:
                status, reply, updated = row
                if status == DONE:
                    return Claim(False, reply=reply or "success")
                age = (_utcnow() - _aware(updated)).total_seconds()
                if age >= self.stale_after:
                    token = self._take_over(key, reply)
                    if token:
                        return Claim(True, token)
                    continue
            if time.monotonic() >= wait_until:
                return Claim(False)
            time.sleep(min(delay, max(0.0, wait_until - time.monotonic())))
            delay = min(delay * 1.5, 0.25)

    def finish(self, key: str, token: str, reply: str) -> str:
        """Store the owner's reply; returns the reply every delivery must give.

        If another delivery took the key over meanwhile, its stored reply wins."""
        with self.db.session() as s:
            done = s.execute(
                update(WechatMessage)
                .where(WechatMessage.key == key, WechatMessage.status == PROCESSING,
                       WechatMessage.reply == token)
                .values(status=DONE, reply=reply, updated_at=_utcnow())
            ).rowcount
        if done:
            return reply
        row = self._row(key)
        if row is not None and row[0] == DONE and row[1]:
            return row[1]
        return reply

    def release(self, key: str, token: str) -> None:
        """Give a claim back unprocessed (the next delivery processes it)."""
        with self.db.session() as s:
            s.execute(delete(WechatMessage).where(WechatMessage.key == key, WechatMessage.reply == token,
                                                  WechatMessage.status == PROCESSING))

    def purge(self, older_than: dt.timedelta | None = None) -> int:
        """Delete rows older than `older_than` (default: keep_days); WeChat retries within seconds."""
        cutoff = _utcnow() - (older_than if older_than is not None else self.keep)
        with self.db.session() as s:
            return s.execute(delete(WechatMessage).where(WechatMessage.created_at < cutoff)).rowcount

    # -- single-statement transactions (short, so SQLite never needs a lock upgrade) ----
    def _insert(self, key: str) -> str:
        token = OWNER_PREFIX + uuid.uuid4().hex
        now = _utcnow()
        try:
            with self.db.session() as s:
                s.execute(insert(WechatMessage).values(key=key, status=PROCESSING, reply=token,
                                                       created_at=now, updated_at=now))
        except IntegrityError:
            return ""
        return token

    def _row(self, key: str) -> tuple[str, str | None, dt.datetime] | None:
        with self.db.session() as s:
            row = s.execute(select(WechatMessage.status, WechatMessage.reply, WechatMessage.updated_at)
                            .where(WechatMessage.key == key)).first()
        return tuple(row) if row is not None else None  # type: ignore[return-value]

    def _take_over(self, key: str, old_token: str | None) -> str:
        token = OWNER_PREFIX + uuid.uuid4().hex
        with self.db.session() as s:
            moved = s.execute(
                update(WechatMessage)
                .where(WechatMessage.key == key, WechatMessage.status == PROCESSING,
                       WechatMessage.reply == old_token)
                .values(reply=token, updated_at=_utcnow())
            ).rowcount
        return token if moved else ""

    def _maybe_purge(self, every: float = 600.0) -> None:
        now = time.monotonic()
        if now - self._purged_at < every or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._purged_at = now
            self.purge()
        finally:
            self._purge_lock.release()
