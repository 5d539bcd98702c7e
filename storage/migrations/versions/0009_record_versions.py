"""record versions: a `version` on deals, contacts, accounts, tasks and tickets (optimistic locking)

Two people may change one record at once (two reps on one deal, Slack and the web chat). Each UPDATE
of these records carries `WHERE version = :read` and sets `version + 1` (SQLAlchemy's
`version_id_col`), so a change committed by someone else in between is never silently overwritten:
the turn sees it, is run again on fresh data, and says what changed meanwhile. Existing rows start
at 1.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VERSIONED = ("accounts", "contacts", "deals", "tasks", "tickets")


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
