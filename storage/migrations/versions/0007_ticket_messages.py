"""help desk: ticket_messages.deleted_at and seen_at, tickets.csat and csat_asked_at

A member of staff who undoes a reply to a customer's ticket takes the message back: it is kept,
marked deleted, and no longer shown to the customer, as a CRM record's undo keeps the row. A staff
reply the customer has not seen yet is shown with their next message to the support bot, once. A
solved ticket's customer is asked once for a 1-5 rating (CSAT), kept on the ticket.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.coltypes

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", storage.coltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("seen_at", storage.coltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("csat", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("csat_asked_at", storage.coltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("csat_asked_at")
        batch_op.drop_column("csat")
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("deleted_at")
