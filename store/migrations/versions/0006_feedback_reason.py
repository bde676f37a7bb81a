"""feedback: the reason of a 👎, and the index version and sources of the rated answer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("index_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sources", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_feedback_index_version"), ["index_version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_index_version"))
        batch_op.drop_column("sources")
        batch_op.drop_column("index_version")
        batch_op.drop_column("reason")
