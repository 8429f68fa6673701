"""Database tables (SQLAlchemy 2 typed models).

The knowledge pack (clauses, dated parameters, FAQ, offices, lexicon) is seeded
from the YAML files in knowledge/data and edited by staff; the rest is runtime
state that must be shared by every worker on every host: conversation state, the
question log and processed WeChat message ids with their replies. All tables share
one metadata so one Alembic history covers them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Clause(Base):
    __tablename__ = "clauses"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # "I", "1".."22", "III.1".."III.4"
    sort: Mapped[int] = mapped_column(Integer, default=0)
    section: Mapped[str] = mapped_column(String(64), default="")
    theme: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    lead_offices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    responsible_offices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    target_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Parameter(Base):
    """A policy figure or window named like `internship.rate`; its values are dated."""

    __tablename__ = "parameters"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    clause: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(32))
    quote: Mapped[str] = mapped_column(Text, default="")  # the plan's words this figure rests on
    # the window parameter the plan states this figure for ("" when the figure has none)
    window_param: Mapped[str] = mapped_column(String(100), default="", server_default="")
    values: Mapped[list["ParameterValue"]] = relationship(
        back_populates="parameter", cascade="all, delete-orphan", order_by="ParameterValue.effective"
    )


class ParameterValue(Base):
    """One dated value. source='file' comes from the pack; 'staff' is an override."""

    __tablename__ = "parameter_values"
    __table_args__ = (UniqueConstraint("name", "effective", "source", name="uq_parameter_value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(ForeignKey("parameters.name", ondelete="CASCADE"), index=True)
    effective: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # number, {"start","end"} window, or null (repealed)
    source: Mapped[str] = mapped_column(String(16), default="file")
    author: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    parameter: Mapped[Parameter] = relationship(back_populates="values")


class Faq(Base):
    __tablename__ = "faqs"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    clause: Mapped[str] = mapped_column(String(16), index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # order in the pack files
    question: Mapped[str] = mapped_column(Text)  # the canonical phrasing, shown in "did you mean"
    phrasings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)  # may hold {{parameter.name}} placeholders
    windows: Mapped[list[Any]] = mapped_column(JSON, default=list)  # window parameters the answer depends on
    calculator: Mapped[str] = mapped_column(String(64), default="")
    intent: Mapped[str] = mapped_column(String(16), default="answer")  # answer | eligibility
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # optimistic concurrency


class Office(Base):
    __tablename__ = "offices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(32), default="county")  # county | township | central | bank | hotline
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duties: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    verified_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    verified_at: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class LexiconEntry(Base):
    __tablename__ = "lexicon"
    __table_args__ = (UniqueConstraint("kind", "term", name="uq_lexicon_term"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # term | synonym | stopword | out_of_scope
    term: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100), default="")  # synonym -> plan term
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class Setting(Base):
    """Small key/value facts staff maintain (e.g. a local complaint hotline)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class Edit(Base):
    """Staff edit history: what changed, who, when, why."""

    __tablename__ = "edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    author: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Conversation(Base):
    """Per-user state: locale, offered options, topic, open dialogues (bot/state.py).

    `version` grows by one with every committed turn; a turn writes only if the version it
    read is still there, so two messages of one person at once never overwrite each other.
    """

    __tablename__ = "conversations"
    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


class QuestionLog(Base):
    __tablename__ = "question_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    user: Mapped[str] = mapped_column(String(128), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    clause: Mapped[str | None] = mapped_column(String(16), nullable=True)
    faq_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)


class WechatMessage(Base):
    """Processed WeChat deliveries: one row per MsgId (events: sender + CreateTime).

    The unique primary key makes retries and concurrent duplicates across
    workers and hosts resolve to one processing and one stored reply.
    """

    __tablename__ = "wechat_messages"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="processing")  # processing | done
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # the plain (unencrypted) reply XML or "success"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


# -- staff console (issue 11) ---------------------------------------------------------------


class StaffUser(Base):
    """A console account: admin (accounts, export, everything), editor (content), viewer (read-only)."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    session_generation: Mapped[int] = mapped_column(Integer, default=1)  # bumped to sign every session out


class LoginThrottle(Base):
    """Wrong-password counts per account ("user:NAME") and per client ("client:ADDR")."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Procedure(Base):
    """How to apply for one measure (申办流程, plan 三(三)): steps, documents, where, and the source."""

    __tablename__ = "procedures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clause: Mapped[str] = mapped_column(String(16), index=True)
    calculator: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    where: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class Callback(Base):
    """The applicant ledger (实名制动态管理服务台账): a person who asked to be called back, with consent."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_ref: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    clause: Mapped[str] = mapped_column(String(16), default="")
    calculator: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | contacted | done | unreachable
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class InboxMark(Base):
    """A logged question staff dealt with in the unanswered inbox (added as a phrasing, new entry, handled)."""

    __tablename__ = "inbox_marks"
    question_id: Mapped[int] = mapped_column(ForeignKey("question_log.id", ondelete="CASCADE"), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # phrasing | new_entry | handled
    target: Mapped[str] = mapped_column(String(100), default="")  # the FAQ id it went to
    by: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class DialogueEvent(Base):
    """A calculator dialogue started or completed (for the dashboard)."""

    __tablename__ = "dialogue_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    user: Mapped[str] = mapped_column(String(128), default="")
    calculator: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))  # started | completed


class WechatNonce(Base):
    """Signed (timestamp, nonce) pairs WeChat used in the last minutes, with the message each carried.

    A plain-mode signature covers only the token, timestamp and nonce, not the body, so a
    captured URL could carry any other message. Each pair is accepted for one message key
    (WeChat's retries of that message share it); rows older than the clock-skew window are
    useless, because such timestamps are refused anyway, and are purged."""

    __tablename__ = "wechat_nonces"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of "timestamp|nonce"
    message_key: Mapped[str] = mapped_column(String(200))  # the dedupe key of the message it signed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


# What the retention purge (knowledge.retention) deletes by age. Declared here rather than in the
# classes so the tables' own definitions stay as they were.
Index("ix_conversations_updated_at", Conversation.updated_at)
Index("ix_wechat_messages_created_at", WechatMessage.created_at)
