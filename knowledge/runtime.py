"""The knowledge pack in memory for one process: the snapshot and its matcher.

Every worker keeps one `Knowledge`. Before each message (or page) it compares the pack
version in the database with the one it holds and rebuilds both when staff changed the
pack, so an edit is live on every worker at its next request, without a restart. The
engine, the web pages and the command line all read the pack through this object.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from .db import Database
from .matcher import Matcher
from .service import Snapshot, load_snapshot, pack_version

# Menu grouping of the plan's clauses for residents: (theme id, clause ids), in menu order.
# Labels are user-facing text and live in the bot's catalog (theme_<id>).
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("startup", ("10", "11")),
    ("internship", ("12",)),
    ("training", ("13", "14", "15", "16", "17")),
    ("enterprise", ("8", "9", "III.4")),
    ("unemployment", ("18", "19")),
    ("hardship", ("20",)),
    ("rural", ("4", "5")),
    ("economy", ("1", "2", "3", "6", "7")),
    ("monitoring", ("21", "22")),
    ("overview", ("I", "III.1", "III.2", "III.3")),
)


def theme_of(clause_id: str) -> str | None:
    """The menu theme a clause belongs to."""
    return next((theme for theme, ids in THEMES if clause_id in ids), None)


@dataclass(frozen=True)
class Loaded:
    snapshot: Snapshot
    matcher: Matcher
    # When this process built (or loaded from its cache) the matcher index: the wall clock to show,
    # the monotonic clock to measure its age with (immune to the system clock being set).
    built_at: float = field(default_factory=time.time)
    built_monotonic: float = field(default_factory=time.monotonic)

    @property
    def age_seconds(self) -> float:
        return time.monotonic() - self.built_monotonic


class Knowledge:
    """Snapshot + matcher, rebuilt once per pack version (thread-safe)."""

    def __init__(self, db: Database, threshold: float | None = None):
        self.db = db.init()
        self.threshold = threshold
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None

    def current(self, session: Session | None = None, version: int | None = None) -> Loaded:
        """The pack as of now; rebuilt when the version in the database moved.

        `version`: the pack version the caller has just read in `session` (the conversation
        store reads it with the conversation, saving a round trip per message)."""
        if session is not None:
            return self._current(session, version)
        with self.db.session() as s:
            return self._current(s, version)

    def _current(self, session: Session, version: int | None = None) -> Loaded:
        if version is None:
            version = pack_version(session)
        loaded = self._loaded
        if loaded is not None and loaded.snapshot.version == version:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.snapshot.version != version:
                snapshot = load_snapshot(session)
                loaded = Loaded(snapshot, Matcher.build(snapshot, threshold=self.threshold))
                self._loaded = loaded
        return loaded

    @property
    def loaded(self) -> Loaded | None:
        """What this process holds now, without reading the database or building anything (health checks)."""
        return self._loaded

    @property
    def snapshot(self) -> Snapshot:
        return self.current().snapshot

    @property
    def matcher(self) -> Matcher:
        return self.current().matcher
