"""How long runtime records are kept, and the purge that enforces it.

Every question writes a question-log row and a conversation row. Without a purge both grow
for ever (10,000 requests added 10.6 MB), and the log keeps what people asked long after
anyone needs it. The RETENTION settings say how long each kind lives:

    QUESTION_LOG_DAYS    question_log rows (what was asked, for staff statistics)
    CONVERSATION_DAYS    conversations nobody wrote to for this long (a dialogue expires after
                         DIALOGUE_TTL_HOURS anyway; what is left is a locale and old choices)
    ONE_OFF_HOURS        one-off conversations (`anon:…`), which nobody can ever address again
    WECHAT_MESSAGE_DAYS  processed WeChat deliveries (WeChat retries within seconds)

plus the WeChat nonce records, useless once their timestamps fall out of the accepted window.
A value of 0 or less keeps that kind for ever. `purge` runs periodically in every serving
process (webhooks.housekeeping) and on demand: `flask --app webhooks purge`. No Flask here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .models import Conversation, QuestionLog, WechatMessage, WechatNonce

ONE_OFF_PREFIX = "anon:"
NONCE_KEEP = dt.timedelta(minutes=15)  # well past the 5-minute timestamp window


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class RetentionPolicy:
    question_log_days: float = 180
    conversation_days: float = 30
    one_off_hours: float = 1
    wechat_message_days: float = 2

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "RetentionPolicy":
        r = settings.get("RETENTION") or {}
        return cls(question_log_days=_number(r.get("QUESTION_LOG_DAYS"), 180),
                   conversation_days=_number(r.get("CONVERSATION_DAYS"), 30),
                   one_off_hours=_number(r.get("ONE_OFF_HOURS"), 1),
                   wechat_message_days=_number(r.get("WECHAT_MESSAGE_DAYS"), 2))


def purge(session: Session, policy: RetentionPolicy, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what the policy no longer keeps; returns how many rows of each kind went."""
    now = now or dt.datetime.now(dt.timezone.utc)
    counts: dict[str, int] = {}

    def before(days: float = 0, hours: float = 0) -> dt.datetime:
        return now - dt.timedelta(days=days, hours=hours)

    if policy.question_log_days > 0:
        counts["question_log"] = session.execute(
            delete(QuestionLog).where(QuestionLog.at < before(days=policy.question_log_days))).rowcount
    one_off = 0
    if policy.one_off_hours > 0:
        one_off = session.execute(
            delete(Conversation).where(Conversation.user.startswith(ONE_OFF_PREFIX, autoescape=True),
                                       Conversation.updated_at < before(hours=policy.one_off_hours))).rowcount
    idle = 0
    if policy.conversation_days > 0:
        idle = session.execute(
            delete(Conversation).where(Conversation.updated_at < before(days=policy.conversation_days))).rowcount
    counts["one_off_conversations"] = one_off
    counts["idle_conversations"] = idle
    if policy.wechat_message_days > 0:
        counts["wechat_messages"] = session.execute(
            delete(WechatMessage).where(WechatMessage.created_at < before(days=policy.wechat_message_days))).rowcount
    counts["wechat_nonces"] = session.execute(
        delete(WechatNonce).where(WechatNonce.created_at < now - NONCE_KEEP)).rowcount
    return counts


def forget_conversation(session: Session, user: str) -> int:
    """Delete one person's conversation (the web chat's 清除记录); returns 1 if there was one."""
    return session.execute(delete(Conversation).where(Conversation.user == user)).rowcount
