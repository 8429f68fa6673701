"""Staff console: accounts and login throttle, procedures, the callback ledger, inbox marks,
dialogue events; FAQ and office versions (optimistic concurrency); office verification.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_login_at", TZ, nullable=True),
        sa.Column("session_generation", sa.Integer(), nullable=False),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TZ, nullable=True),
        sa.Column("locked_until", TZ, nullable=True),
    )
    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("clause", sa.String(16), nullable=False, index=True),
        sa.Column("calculator", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("where", sa.Text(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_ref", sa.String(128), nullable=False, index=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("clause", sa.String(16), nullable=False),
        sa.Column("calculator", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "inbox_marks",
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("question_log.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "dialogue_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("calculator", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
    )
    with op.batch_alter_table("faqs") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("verified_by", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("verified_at", sa.Date(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("version")
        batch.drop_column("verified_at")
        batch.drop_column("verified_by")
    with op.batch_alter_table("faqs") as batch:
        batch.drop_column("version")
    for table in ("dialogue_events", "inbox_marks", "callbacks", "procedures", "login_throttle", "staff_users"):
        op.drop_table(table)
