"""analytics: one row per widget user message; the applicant kind of a ticket

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("opens_conversation", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("ip_type", sa.String(length=32), nullable=True),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("handed_over", sa.Boolean(), nullable=False),
        sa.Column("bot_messages", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.String(length=32), nullable=True),
        sa.Column("index_version", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analytics_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_turns_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_turns_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_turns_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_turns_answer_id"), ["answer_id"], unique=False)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("applicant")
    with op.batch_alter_table("analytics_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_turns_answer_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_turns_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_turns_day"))
        batch_op.drop_index(batch_op.f("ix_analytics_turns_created_at"))
    op.drop_table("analytics_turns")
