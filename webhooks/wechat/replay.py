"""Freshness of a WeChat delivery: its signed timestamp, and its nonce used for one message only.

In plain mode the signature covers the token, timestamp and nonce — not the body (WeChat's
design). Without these checks one logged URL (`signature`, `timestamp`, `nonce`) let anyone
post any message as any follower, forever. Now:

- a timestamp more than MAX_CLOCK_SKEW_SECONDS (300) from our clock is refused, so a captured
  URL is useless after five minutes;
- within that window, each (timestamp, nonce) pair is bound to the first message it carried
  (its dedupe key: MsgId, sender, account). The same pair with another message is refused; with
  the same message it is WeChat retrying, which goes on to the stored reply.

The pairs live in the database (`wechat_nonces`), so every worker and host sees them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from knowledge.db import Database
from knowledge.models import WechatNonce

from .errors import BadSignature

MAX_TIMESTAMP_CHARS = 12


class StaleDelivery(BadSignature):
    """A timestamp outside the accepted window (or not a timestamp at all)."""

    code = "stale_timestamp"


class ReplayedNonce(BadSignature):
    """A signed (timestamp, nonce) pair already used for another message."""

    code = "replayed_nonce"


def clock() -> float:
    """Seconds since the epoch; tests replace it."""
    return time.time()


def require_fresh(timestamp: str, max_skew: float) -> None:
    """StaleDelivery unless `timestamp` is whole seconds within `max_skew` of now."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_CHARS:
        raise StaleDelivery("timestamp is not a number of seconds")
    skew = abs(clock() - int(timestamp))
    if skew > max_skew:
        raise StaleDelivery(f"timestamp is {skew:.0f} s from now (at most {max_skew:.0f})")


class NonceGuard:
    """Binds each signed (timestamp, nonce) pair to one message key."""

    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def pair_key(timestamp: str, nonce: str) -> str:
        return hashlib.sha256(f"{timestamp}|{nonce}".encode("utf-8", "replace")).hexdigest()

    def admit(self, timestamp: str, nonce: str, message_key: str) -> None:
        """Record the pair for `message_key`; ReplayedNonce if it already carried another message."""
        key = self.pair_key(timestamp, nonce)
        try:
            with self.db.session() as s:
                s.execute(insert(WechatNonce).values(key=key, message_key=message_key,
                                                     created_at=dt.datetime.now(dt.timezone.utc)))
            return
        except IntegrityError:
            pass
        with self.db.session() as s:
            first = s.scalar(select(WechatNonce.message_key).where(WechatNonce.key == key))
        if first is not None and first != message_key:
            raise ReplayedNonce("this timestamp and nonce already signed another message")

    def purge(self, older_than: dt.timedelta) -> int:
        """Forget pairs older than `older_than` (their timestamps are refused by now anyway)."""
        cutoff = dt.datetime.now(dt.timezone.utc) - older_than
        with self.db.session() as s:
            return s.execute(delete(WechatNonce).where(WechatNonce.created_at < cutoff)).rowcount
