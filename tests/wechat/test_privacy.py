"""Issue 10, items 3 and 5: WeChat openids are stored only as keyed hashes."""
from __future__ import annotations

from sqlalchemy import select

from knowledge.models import Conversation, QuestionLog
from webhooks.identity import wechat_user
from webhooks.wechat.simulator import WeChatSimulator


def test_wechat_openids_are_stored_only_as_keyed_hashes(configured_fresh_app):
    openid = "o_secret_openid_123456"
    sim = WeChatSimulator(configured_fresh_app, user=openid)
    reply = sim.send_text("见习补贴一个月多少")
    assert reply.to_user == openid  # the answer still goes to the real follower
    with configured_fresh_app.app_context():
        key = wechat_user(openid)
    assert key.startswith("wx:") and openid not in key
    db = configured_fresh_app.extensions["jiuye.db"]
    with db.session() as s:
        logged = s.scalars(select(QuestionLog.user).where(QuestionLog.channel == "wechat")).all()
        conversations = s.scalars(select(Conversation.user)).all()
    assert logged == [key] and key in conversations
    assert not any(openid in value for value in logged + conversations)
    # another SECRET_KEY gives another hash: the key is what makes it unguessable
    configured_fresh_app.config["SECRET_KEY"] = "another"
    with configured_fresh_app.app_context():
        assert wechat_user(openid) != key


def test_the_migration_redacts_openids_stored_before_it(new_db_url):
    """Rows written as `wechat:<openid>` before revision 0004 lose the openid on upgrade."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from knowledge.db import MIGRATIONS

    url = new_db_url("old", empty=True)
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO question_log (at, \"user\", channel, text, kind) "
                          "VALUES ('2026-01-01', 'wechat:o_old_openid', 'wechat', '见习', 'answer')"))
        conn.execute(text("INSERT INTO conversations (\"user\", locale, state, updated_at) "
                          "VALUES ('wechat:o_old_openid', 'zh', '{}', '2026-01-01')"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        users = conn.execute(text("SELECT \"user\" FROM question_log")).scalars().all()
        left = conn.execute(text("SELECT count(*) FROM conversations")).scalar()
    engine.dispose()
    assert users == ["wx:redacted"] and left == 0
