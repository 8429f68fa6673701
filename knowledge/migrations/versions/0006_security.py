"""security: wechat_nonces (replayed WeChat signatures), indexes for the retention purge, and no
raw WeChat openids left in the question log or the conversations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Until now a follower was stored as `wechat:<openid>`. From this revision the key is a keyed
hash (`wx:<hmac>`, webhooks.identity), which needs SECRET_KEY and so cannot be computed here:
old question-log rows keep their channel and text but lose the openid, and the old
conversations (unreachable under the new keys anyway) are deleted.
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_nonces",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_wechat_nonces_created_at", "wechat_nonces", ["created_at"])
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    op.create_index("ix_wechat_messages_created_at", "wechat_messages", ["created_at"])
    # "user" is a reserved word in PostgreSQL: table constructs quote it for each dialect.
    log = sa.table("question_log", sa.column("user", sa.String))
    op.execute(log.update().where(log.c.user.like("wechat:%")).values(user="wx:redacted"))
    conversations = sa.table("conversations", sa.column("user", sa.String))
    op.execute(conversations.delete().where(conversations.c.user.like("wechat:%")))


def downgrade() -> None:
    op.drop_index("ix_wechat_messages_created_at", table_name="wechat_messages")
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    op.drop_index("ix_wechat_nonces_created_at", table_name="wechat_nonces")
    op.drop_table("wechat_nonces")
