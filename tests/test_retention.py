"""Issue 10, item 5: bounded growth. Old question logs, one-off and idle conversations and
processed WeChat records are purged by the RETENTION settings (before, nothing ever was)."""
from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, insert, select

from knowledge.models import Conversation, QuestionLog, WechatMessage, WechatNonce
from knowledge.retention import RetentionPolicy, forget_conversation, purge

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


def ago(**kw) -> dt.datetime:
    return NOW - dt.timedelta(**kw)


def fill(db) -> None:
    with db.session() as s:
        s.execute(insert(QuestionLog), [
            {"at": ago(days=200), "user": "web:old", "channel": "web", "text": "旧问题", "kind": "answer"},
            {"at": ago(days=10), "user": "web:new", "channel": "web", "text": "新问题", "kind": "answer"}])
        s.execute(insert(Conversation), [
            {"user": "anon:gone", "locale": "zh", "state": {}, "updated_at": ago(hours=2)},
            {"user": "anon:fresh", "locale": "zh", "state": {}, "updated_at": ago(minutes=10)},
            {"user": "web:idle", "locale": "zh", "state": {}, "updated_at": ago(days=40)},
            {"user": "web:active", "locale": "zh", "state": {}, "updated_at": ago(days=3)},
            {"user": "anon%:like-trap", "locale": "zh", "state": {}, "updated_at": ago(hours=2)}])
        s.execute(insert(WechatMessage), [
            {"key": "old", "status": "done", "reply": "x", "created_at": ago(days=3), "updated_at": ago(days=3)},
            {"key": "new", "status": "done", "reply": "x", "created_at": ago(hours=1), "updated_at": ago(hours=1)}])
        s.execute(insert(WechatNonce), [
            {"key": "a" * 64, "message_key": "m1", "created_at": ago(minutes=30)},
            {"key": "b" * 64, "message_key": "m2", "created_at": ago(minutes=1)}])


def remaining(db, model, column):
    with db.session() as s:
        return sorted(s.scalars(select(column)).all())


def test_purge_keeps_what_the_policy_keeps(fresh_db):
    fill(fresh_db)
    with fresh_db.session() as s:
        counts = purge(s, RetentionPolicy(), now=NOW)
    assert counts == {"question_log": 1, "one_off_conversations": 1, "idle_conversations": 1,
                      "wechat_messages": 1, "wechat_nonces": 1}
    assert remaining(fresh_db, QuestionLog, QuestionLog.text) == ["新问题"]
    assert remaining(fresh_db, Conversation, Conversation.user) == ["anon%:like-trap", "anon:fresh", "web:active"]
    assert remaining(fresh_db, WechatMessage, WechatMessage.key) == ["new"]
    assert remaining(fresh_db, WechatNonce, WechatNonce.message_key) == ["m2"]


def test_zero_keeps_for_ever(fresh_db):
    fill(fresh_db)
    with fresh_db.session() as s:
        counts = purge(s, RetentionPolicy(0, 0, 0, 0), now=NOW)
    assert "question_log" not in counts and counts["idle_conversations"] == counts["one_off_conversations"] == 0
    with fresh_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 5


def test_policy_from_settings():
    policy = RetentionPolicy.from_settings({"RETENTION": {"QUESTION_LOG_DAYS": "30", "ONE_OFF_HOURS": 0.5,
                                                          "CONVERSATION_DAYS": "x"}})
    assert policy == RetentionPolicy(question_log_days=30, conversation_days=30, one_off_hours=0.5,
                                     wechat_message_days=2)


def test_one_off_api_questions_leave_nothing_behind_after_the_purge(fresh_app):
    client = fresh_app.test_client()
    for _ in range(5):
        assert client.post("/api/v1/ask", json={"text": "见习补贴一个月多少"}).status_code == 200
    db = fresh_app.extensions["jiuye.db"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)
                        .where(Conversation.user.like("anon:%"))) == 5
        purge(s, RetentionPolicy(), now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0


def test_the_purge_command(fresh_app):
    fill(fresh_app.extensions["jiuye.db"].init())
    result = fresh_app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("purged: question_log 1,")


def test_each_process_purges_in_the_background_when_due(fresh_app):
    fill(fresh_app.extensions["jiuye.db"].init())
    keeper = fresh_app.extensions["jiuye.housekeeping"]
    keeper.next_at = 0  # due now
    fresh_app.test_client().get("/healthz")
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up and not keeper.lock.acquire(blocking=False):
        time.sleep(0.05)  # the purge thread holds the lock while it runs
    keeper.lock.release()
    assert remaining(fresh_app.extensions["jiuye.db"], QuestionLog, QuestionLog.text) == ["新问题"]
    assert keeper.next_at > time.monotonic() + 60  # the next one waits an interval


def test_forget_conversation(fresh_db):
    fill(fresh_db)
    with fresh_db.session() as s:
        assert forget_conversation(s, "web:active") == 1
        assert forget_conversation(s, "web:active") == 0
