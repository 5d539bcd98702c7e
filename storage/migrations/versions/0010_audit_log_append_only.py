"""audit_log is append-only: undo is recorded as new rows; the database refuses UPDATE and DELETE

Until now undo set audit_log.undone_at on the rows it reverted. Undo has always also written one row of
action "undo" per reverted row, in the change group "undo-<group>", so whether a group is undone can be
derived from those rows (assistant.undone.not_undone) and undone_at is dropped: nothing is lost. Then a
trigger on audit_log rejects every UPDATE and DELETE, whoever writes (the assistant, an import, plain
SQL). TRUNCATE (PostgreSQL), DROP TABLE and restoring a backup are left alone: they replace the store
rather than edit its history, and the test fixtures empty the store with TRUNCATE.

On SQLite a batch migration that recreates audit_log drops its triggers with the old table: a later
migration that alters audit_log must create them again (`create_triggers`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.coltypes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MESSAGE = "audit_log is append-only"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for kind in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{kind.lower()} BEFORE {kind} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {kind} refused'); END"
            )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        for kind in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{kind}")


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("undone_at")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undone_at", storage.coltypes.UTCDateTime(), nullable=True))
    # as 0008 and earlier kept it: a reverted row and its undo rows carry the moment of the undo
    op.execute(
        "UPDATE audit_log SET undone_at = (SELECT min(u.at) FROM audit_log u WHERE u.action = 'undo' "
        "AND u.change_group = 'undo-' || audit_log.change_group) WHERE action <> 'undo'"
    )
    op.execute("UPDATE audit_log SET undone_at = at WHERE action = 'undo'")
