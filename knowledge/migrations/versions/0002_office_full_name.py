"""offices.full_name (the official name, kept apart from staff notes); faqs.sort (the pack's order)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("full_name", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("faqs") as batch:
        batch.add_column(sa.Column("sort", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("faqs") as batch:
        batch.drop_column("sort")
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("full_name")
