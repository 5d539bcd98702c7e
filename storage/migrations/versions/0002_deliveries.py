"""deliveries: what the terminal inbox and the recording test channel delivered

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:05:36.454846
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.coltypes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("delivered_at", storage.coltypes.UTCDateTime(), nullable=False),
        sa.Column("seen_at", storage.coltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_idempotency_key"), ["idempotency_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(
            "ix_deliveries_recipient_seen", ["channel", "recipient", "seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_recipient_seen")
        batch_op.drop_index(batch_op.f("ix_deliveries_outbox_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_idempotency_key"))

    op.drop_table("deliveries")
