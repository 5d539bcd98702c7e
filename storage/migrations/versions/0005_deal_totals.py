"""deal totals kept by triggers, and an index for recent activity

The pipeline figures (by stage, by rep, forecast, win rate) add up every open or closed deal; on a
million deals that is half a million rows a question, 150-300 ms however it is indexed. deal_totals
holds the same counts and sums per (stage, owner, close date, closed on), kept by triggers on deals in
the same transaction as every insert, update, delete or TRUNCATE, whoever writes (the assistant, an
import, undo, plain SQL), so the figures read from it are exact. Amounts are kept in cents.

ix_deals_pipeline takes amount and id right after the close date, so "top deals this month" walks
each stage's month by amount from the index alone (a separate index for it made SQLite leave the
covering one). ix_deals_recent_activity lets "deals with no activity in N days" count the
recently active deals and take them from the totals, instead of reading the quiet ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHERE = sa.text("deleted_at IS NULL")
PIPELINE_COLUMNS_0004 = [
    "stage",
    "close_date",
    "closed_on",
    "owner_id",
    "amount",
    "probability",
    "last_activity_at",
]
PIPELINE_COLUMNS = [
    "stage",
    "close_date",
    "amount",
    "id",
    "closed_on",
    "owner_id",
    "probability",
    "last_activity_at",
]

# what a deal adds to its row of deal_totals; {r} is NEW or OLD
PG_KEY = (
    "{r}.stage || '|' || coalesce({r}.owner_id::text, '') || '|' || coalesce({r}.close_date::text, '')"
    " || '|' || coalesce({r}.closed_on::text, '')"
)
PG_CENTS = "coalesce(round({r}.amount * 100), 0)"
PG_ADD = (
    "INSERT INTO deal_totals AS t (key, stage, owner_id, close_date, closed_on, deals, amount_cents, "
    "weighted_cents) VALUES (" + PG_KEY + ", {r}.stage, {r}.owner_id, {r}.close_date, {r}.closed_on, "
    "{sign}1, {sign}" + PG_CENTS + ", {sign}" + PG_CENTS + " * {r}.probability) "
    "ON CONFLICT (key) DO UPDATE SET deals = t.deals + excluded.deals, "
    "amount_cents = t.amount_cents + excluded.amount_cents, "
    "weighted_cents = t.weighted_cents + excluded.weighted_cents;"
)
SQLITE_KEY = (
    "{r}.stage || '|' || coalesce({r}.owner_id, '') || '|' || coalesce({r}.close_date, '')"
    " || '|' || coalesce({r}.closed_on, '')"
)
SQLITE_CENTS = "CAST(round(coalesce({r}.amount, 0) * 100) AS INTEGER)"
SQLITE_ADD = (
    "INSERT INTO deal_totals (key, stage, owner_id, close_date, closed_on, deals, amount_cents, "
    "weighted_cents) SELECT " + SQLITE_KEY + ", {r}.stage, {r}.owner_id, {r}.close_date, {r}.closed_on, "
    "{sign}1, {sign}" + SQLITE_CENTS + ", {sign}" + SQLITE_CENTS + " * {r}.probability "
    "WHERE {r}.deleted_at IS NULL "  # the WHERE also tells SQLite the ON CONFLICT is the upsert's
    "ON CONFLICT (key) DO UPDATE SET deals = deals + excluded.deals, "
    "amount_cents = amount_cents + excluded.amount_cents, "
    "weighted_cents = weighted_cents + excluded.weighted_cents;"
)
COUNTED = ("stage", "owner_id", "close_date", "closed_on", "amount", "probability")


def _changed(dialect: str) -> str:
    """The UPDATE trigger's WHEN: only changes that move a deal between rows or change its sums."""
    differ = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    tests = [f"OLD.{c} {differ} NEW.{c}" for c in COUNTED]
    tests.append("(OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)")
    return " OR ".join(tests)


def _backfill() -> None:
    cents = "coalesce(round(amount * 100), 0)"
    if op.get_bind().dialect.name == "postgresql":
        key = PG_KEY.format(r="deals")
    else:
        key = SQLITE_KEY.format(r="deals")
        cents = SQLITE_CENTS.format(r="deals")
    op.execute(
        "INSERT INTO deal_totals (key, stage, owner_id, close_date, closed_on, deals, amount_cents, "
        f"weighted_cents) SELECT {key}, stage, owner_id, close_date, closed_on, count(*), sum({cents}), "
        f"sum({cents} * probability) FROM deals WHERE deleted_at IS NULL "
        "GROUP BY stage, owner_id, close_date, closed_on"
    )


def _postgresql_triggers() -> None:
    add_new = PG_ADD.format(r="NEW", sign="")
    add_old = PG_ADD.format(r="OLD", sign="-")
    op.execute(
        f"""
        CREATE FUNCTION deal_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
                {add_old}
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
                {add_new}
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE FUNCTION deal_totals_clear() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM deal_totals; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER deal_totals_insert AFTER INSERT ON deals FOR EACH ROW "
        "WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION deal_totals_apply()"
    )
    op.execute(
        "CREATE TRIGGER deal_totals_delete AFTER DELETE ON deals FOR EACH ROW "
        "WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION deal_totals_apply()"
    )
    op.execute(
        "CREATE TRIGGER deal_totals_update AFTER UPDATE ON deals FOR EACH ROW "
        f"WHEN ({_changed('postgresql')}) EXECUTE FUNCTION deal_totals_apply()"
    )
    op.execute(
        "CREATE TRIGGER deal_totals_truncate AFTER TRUNCATE ON deals FOR EACH STATEMENT "
        "EXECUTE FUNCTION deal_totals_clear()"
    )


def _sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER deal_totals_insert AFTER INSERT ON deals WHEN NEW.deleted_at IS NULL BEGIN "
        + SQLITE_ADD.format(r="NEW", sign="")
        + " END"
    )
    op.execute(
        "CREATE TRIGGER deal_totals_delete AFTER DELETE ON deals WHEN OLD.deleted_at IS NULL BEGIN "
        + SQLITE_ADD.format(r="OLD", sign="-")
        + " END"
    )
    op.execute(
        f"CREATE TRIGGER deal_totals_update AFTER UPDATE ON deals WHEN {_changed('sqlite')} BEGIN "
        + SQLITE_ADD.format(r="OLD", sign="-")
        + " "
        + SQLITE_ADD.format(r="NEW", sign="")
        + " END"
    )


def upgrade() -> None:
    op.create_table(
        "deal_totals",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Numeric(precision=30, scale=0), nullable=False),
        sa.Column("weighted_cents", sa.Numeric(precision=32, scale=0), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("deal_totals", schema=None) as batch_op:
        batch_op.create_index("ix_deal_totals_stage_close_date", ["stage", "close_date"], unique=False)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_pipeline", sqlite_where=WHERE, postgresql_where=WHERE)
        batch_op.create_index(
            "ix_deals_pipeline", PIPELINE_COLUMNS, unique=False, sqlite_where=WHERE, postgresql_where=WHERE
        )
        batch_op.create_index(
            "ix_deals_recent_activity",
            ["last_activity_at", "stage", "owner_id", "close_date", "closed_on", "amount"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS deal_totals_{name} ON deals")
        op.execute("DROP FUNCTION IF EXISTS deal_totals_apply()")
        op.execute("DROP FUNCTION IF EXISTS deal_totals_clear()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS deal_totals_{name}")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_pipeline", sqlite_where=WHERE, postgresql_where=WHERE)
        batch_op.create_index(
            "ix_deals_pipeline",
            PIPELINE_COLUMNS_0004,
            unique=False,
            sqlite_where=WHERE,
            postgresql_where=WHERE,
        )
        batch_op.drop_index(
            "ix_deals_recent_activity",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
    op.drop_table("deal_totals")
