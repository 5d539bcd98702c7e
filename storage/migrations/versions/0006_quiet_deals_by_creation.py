"""quiet deals by creation: created_at in ix_deals_recent_activity

A deal with no activity is quiet from its creation (assistant/skills/quiet.py), so "deals with no
activity in N days" also counts the deals without any activity created since: with created_at right
after last_activity_at, the index serves `last_activity_at IS NULL AND created_at > cutoff` too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PARTIAL = {"sqlite_where": sa.text("deleted_at IS NULL"), "postgresql_where": sa.text("deleted_at IS NULL")}
BEFORE = ["last_activity_at", "stage", "owner_id", "close_date", "closed_on", "amount"]
AFTER = ["last_activity_at", "created_at", "stage", "owner_id", "close_date", "closed_on", "amount"]


def _index(columns: list[str]) -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_recent_activity", **PARTIAL)
        batch_op.create_index("ix_deals_recent_activity", columns, unique=False, **PARTIAL)


def upgrade() -> None:
    _index(AFTER)


def downgrade() -> None:
    _index(BEFORE)
