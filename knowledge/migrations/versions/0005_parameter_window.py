"""parameters.window_param: the window parameter the plan states a figure for (skill_upgrade.primary →
skill_upgrade.relaxed_window), so pages and answers show the figure with its period

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parameters") as batch:
        batch.add_column(sa.Column("window_param", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("parameters") as batch:
        batch.drop_column("window_param")
