"""tickets: pseudonymous client reference for the per-client ticket limit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_ref", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_client_ref"), ["client_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_client_ref"))
        batch_op.drop_column("client_ref")
