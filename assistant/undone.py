"""Whether a change was undone, read from the append-only audit log.

The database refuses UPDATE and DELETE on audit_log (migration 0010), so undo never marks the rows it
reverts: it appends "undo" rows in the change group `undo-<group>`, and a group is undone when such rows
exist. Kept apart from assistant/audit.py so that assistant/meanwhile.py, which audit.py uses, can ask
too.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, literal
from sqlalchemy.orm import aliased

from storage.models import AuditEntry

UNDO_PREFIX = "undo-"  # the change group of the rows that record the undo of group G is "undo-G"


def undo_group(group: str) -> str:
    """The change group under which the undo of `group` is recorded."""
    return f"{UNDO_PREFIX}{group}"


def undone_group(group: str) -> str | None:
    """The group an undo row's group `undo-G` undid (G), or None for a row that is no undo."""
    return group[len(UNDO_PREFIX) :] if group.startswith(UNDO_PREFIX) else None


def not_undone() -> ColumnElement[bool]:
    """A condition on AuditEntry: its change group has not been undone (no undo rows recorded for it)."""
    undo = aliased(AuditEntry)
    return ~exists().where(
        undo.action == "undo", undo.change_group == literal(UNDO_PREFIX) + AuditEntry.change_group
    )
