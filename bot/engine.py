"""The conversation engine: one message in, one reply out, whatever the channel.

The engine is small on purpose: it loads the person's conversation, lets the router
(bot/router.py) decide the reply, and saves the new state with the question log in the same
transaction (bot/store.py: an upsert and a version check, so two messages of one person at
once never lose one). A message the client sends again with the same `message_id` gets the
stored reply without being applied twice. Nothing here raises to the caller: any failure
inside a turn becomes a friendly reply, and the stored state stays as it was.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.matcher import Matcher
from knowledge.models import QuestionLog
from knowledge.runtime import Knowledge
from knowledge.service import Snapshot

from . import router
from .dialogues import DEFAULT_TTL_HOURS, Dialogues
from eligibility.texts import speaking

from .i18n import msg, normal_locale
from .replies import Scene
from .reply import Incoming, Reply
from .state import ConversationState
from .store import ConversationStore, Row

log = logging.getLogger(__name__)
_LOG_QUESTION = insert(QuestionLog.__table__)  # the column defaults (`at`) apply to Core inserts too
MAX_USER = 128
MAX_LOG_TEXT = 2000


def today_in(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


class Engine:
    """Channel-agnostic engine. Build once per process; `handle` is thread-safe."""

    def __init__(self, db: Database, settings: Mapping[str, Any] | None = None,
                 clock: Callable[[], dt.date] | None = None, log_questions: bool = True,
                 knowledge: Knowledge | None = None):
        self.db = db.init()
        self.settings = dict(settings or {})
        pinned = self.settings.get("TODAY")
        tz = self.settings.get("TIMEZONE") or "Asia/Shanghai"
        self.clock = clock or ((lambda: dt.date.fromisoformat(str(pinned))) if pinned else (lambda: today_in(tz)))
        self.log_questions = log_questions
        threshold = self.settings.get("MATCH_THRESHOLD")
        self.knowledge = knowledge or Knowledge(self.db, float(threshold) if threshold not in (None, "") else None)
        self.store = ConversationStore(self.db)
        self.knowledge.current()

    # -- the knowledge pack -------------------------------------------------------------------
    def refresh(self, session: Session | None = None) -> Snapshot:
        """The pack as of now (rebuilt when staff changed it)."""
        return self.knowledge.current(session).snapshot

    @property
    def snapshot(self) -> Snapshot:
        return self.knowledge.snapshot

    @property
    def matcher(self) -> Matcher:
        return self.knowledge.matcher

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def ttl_hours(self) -> float:
        value = self.settings.get("DIALOGUE_TTL_HOURS")
        try:
            return float(value) if value not in (None, "") else DEFAULT_TTL_HOURS
        except (TypeError, ValueError):
            return DEFAULT_TTL_HOURS

    # -- the person's language ----------------------------------------------------------------
    def set_locale(self, user: str, locale: str) -> None:
        """Keep `locale` for this person (a page's language switch); every channel then answers in it."""
        self.store.set_locale(router.clean_id(user), normal_locale(locale))

    def locale_of(self, user: str) -> str | None:
        return self.store.locale_of(router.clean_id(user))

    # -- one message -----------------------------------------------------------------------------
    def handle(self, incoming: Incoming) -> Reply:
        user = (incoming.user or "anonymous")
        if len(user) > MAX_USER:
            # Callers validate ids; a longer one is hashed, never cut (two ids must not share a row).
            import hashlib

            user = "h:" + hashlib.sha256(user.encode("utf-8", "replace")).hexdigest()
        user = router.clean_id(user) or "anonymous"
        try:
            return self.store.turn(user, incoming.locale or "zh", lambda s, row: self._turn(s, row, incoming, user))
        except DBAPIError:
            # The database is away (a dropped connection, a restart): the channel says "try again"
            # and, for WeChat, does not keep that as the message's answer (its retry is processed).
            raise
        except Exception:  # noqa: BLE001 — a bug: the person gets a friendly reply, the state stays as it was
            log.exception("turn failed for %s", user[:24])
            locale = normal_locale(incoming.locale)
            return Reply(msg("engine_error", locale), "fallback", locale=locale)

    def warm(self, texts: tuple[str, ...], channel: str = "web") -> list[Reply]:
        """Play `texts` as one throwaway person, in a transaction that is rolled back.

        Everything a turn builds lazily (the router's tables, the calculators' forms, the message
        catalogs, the SQL of its statements) is built, so a new worker answers its first real
        question at full speed; nothing is stored (no conversation, no question log)."""
        user = "warm-up"
        session = self.db.sessionmaker()
        try:
            row = self.store.read(session, user)
            replies = []
            for text in texts:
                reply, row = self._turn(session, row, Incoming(user=user, text=text, channel=channel), user)
                replies.append(reply)
            return replies
        finally:
            session.rollback()
            session.close()

    def _turn(self, session: Session, row: Row, incoming: Incoming, user: str) -> tuple[Reply, Row]:
        loaded = self.knowledge.current(session, row.pack_version)
        now = self.now()
        state = ConversationState(row.state, now)
        message_id = (incoming.message_id or "")[:64] or None
        last = state.last
        if message_id and last is not None and last.get("id") == message_id:
            return Reply.from_stored(last["reply"]), row  # a retry of a message already answered
        locale = normal_locale(incoming.locale or row.locale)
        scene = Scene(loaded.snapshot, self.clock(), locale, callbacks=self.settings.get("CALLBACKS", True) is not False)
        turn = router.Turn(scene, loaded.matcher, state, Dialogues(loaded.snapshot, scene.today, now, self.ttl_hours(),
                                                                   locale),
                           channel=incoming.channel, settings=self.settings, session=session, user=user)
        state.next_turn()
        with speaking(locale):  # the calculators' sentences and form texts follow the person's language
            reply = router.route(turn, incoming.text, incoming.event)
        reply.events = list(turn.events)
        if turn.new_locale:
            locale = turn.new_locale
        reply.locale = turn.reply_locale or locale
        if reply.options and reply.actions:
            state.offer([dict(a.to_json(), key=o["key"]) for o, a in zip(reply.options, reply.actions)
                         if a is not None])
        elif not state.dialogue:
            state.clear_offer()
        else:
            state.clear_offer()
        if not (incoming.text or "").strip() or router.understand.command_of(incoming.text or "") != "repeat":
            state.remember(message_id, reply.stored())
        if self.log_questions and incoming.text:
            # A Core insert on the turn's connection: it commits with the state, or not at all.
            session.connection().execute(_LOG_QUESTION, dict(
                user=user, channel=incoming.channel[:16], text=router.clean_text(incoming.text)[:MAX_LOG_TEXT] or "-",
                kind=reply.kind, clause=reply.clause, faq_id=reply.faq_id, score=reply.score))
        return reply, Row(row.user, state.data, locale, row.version)
