"""deal_totals on PostgreSQL kept per statement, not per row

0005's row triggers upsert deal_totals once for every deal an INSERT or UPDATE touches, which doubled the
time of a 100,000-deal import. Statement triggers with transition tables add up all the rows a statement
wrote and upsert each (stage, owner, close date, closed on) row once: an import batch of a thousand deals
costs a handful of upserts, and a turn's one-row write the same as before. Updates that change none of
the counted columns add up to nothing and write nothing. SQLite has no statement triggers and keeps 0005's.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00.000000
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY = (
    "stage || '|' || coalesce(owner_id::text, '') || '|' || coalesce(close_date::text, '')"
    " || '|' || coalesce(closed_on::text, '')"
)
CENTS = "coalesce(round(amount * 100), 0)"


def _rows(table: str, sign: str) -> str:
    """A transition table's live deals as signed contributions."""
    return (
        f"SELECT {KEY} AS key, stage, owner_id, close_date, closed_on, {sign}1 AS deals, "
        f"{sign}{CENTS} AS cents, {sign}{CENTS} * probability AS weighted FROM {table} "
        "WHERE deleted_at IS NULL"
    )


def _apply(*parts: str) -> str:
    """One upsert of the contributions added up per key; keys whose changes cancel out are left alone."""
    return (
        "INSERT INTO deal_totals AS t (key, stage, owner_id, close_date, closed_on, deals, amount_cents, "
        "weighted_cents) SELECT key, min(stage), min(owner_id), min(close_date), min(closed_on), sum(deals), "
        f"sum(cents), sum(weighted) FROM ({' UNION ALL '.join(parts)}) AS c GROUP BY key "
        "HAVING sum(deals) <> 0 OR sum(cents) <> 0 OR sum(weighted) <> 0 "
        "ON CONFLICT (key) DO UPDATE SET deals = t.deals + excluded.deals, "
        "amount_cents = t.amount_cents + excluded.amount_cents, "
        "weighted_cents = t.weighted_cents + excluded.weighted_cents;"
    )


FUNCTIONS = {
    "deal_totals_inserted": _apply(_rows("new_deals", "")),
    "deal_totals_deleted": _apply(_rows("old_deals", "-")),
    "deal_totals_updated": _apply(_rows("old_deals", "-"), _rows("new_deals", "")),
}
TRIGGERS = {
    "deal_totals_insert": ("INSERT", "REFERENCING NEW TABLE AS new_deals", "deal_totals_inserted"),
    "deal_totals_delete": ("DELETE", "REFERENCING OLD TABLE AS old_deals", "deal_totals_deleted"),
    "deal_totals_update": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals",
        "deal_totals_updated",
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON deals")
    op.execute("DROP FUNCTION IF EXISTS deal_totals_apply()")
    for name, body in FUNCTIONS.items():
        function = f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        op.execute(function + "RETURN NULL; END $$")
    for name, (event, transition, function) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON deals {transition} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON deals")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TRIGGER IF EXISTS deal_totals_truncate ON deals")
    op.execute("DROP FUNCTION IF EXISTS deal_totals_clear()")
    # 0005's row triggers, as 0005 made them
    spec = importlib.util.spec_from_file_location(
        "deal_totals_0005", Path(__file__).with_name("0005_deal_totals.py")
    )
    assert spec is not None and spec.loader is not None
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    before._postgresql_triggers()
