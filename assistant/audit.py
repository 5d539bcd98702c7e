"""Every change the assistant makes is recorded (who, channel, before/after) so `undo` can put it back.

One turn is one change group; undo reverts the user's newest group that is not undone yet. The log is
append-only (the database refuses UPDATE and DELETE on audit_log, see migration 0010): an undo is
recorded as new "undo" rows in the group `undo-<group>`, and whether a group is undone is derived from
them (`not_undone`), never stored on the rows it undid.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, Numeric, exists, literal, select
from sqlalchemy.orm import Session, aliased

from storage.coltypes import UTCDateTime, utcnow
from storage.models import AuditEntry, Base

SKIP = {"created_at", "updated_at"}
UNDO_PREFIX = "undo-"  # the change group of the rows that record the undo of group G is "undo-G"


def snapshot(record: Base) -> dict[str, Any]:
    """The record's columns as JSON values."""
    out: dict[str, Any] = {}
    for column in record.__table__.columns:
        if column.key in SKIP:
            continue
        value = getattr(record, column.key)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[column.key] = value
    return out


def _restore(record: Base, values: dict[str, Any]) -> None:
    columns = {c.key: c for c in record.__table__.columns}
    for key, value in values.items():
        column = columns.get(key)
        if column is None or key in ("id", *SKIP):
            continue
        if value is not None:
            if isinstance(column.type, UTCDateTime | DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(column.type, Date):
                value = date.fromisoformat(value)
            elif isinstance(column.type, Numeric):
                value = Decimal(value)
        setattr(record, key, value)


@dataclass
class Recorder:
    session: Session
    user_id: int | None
    channel: str
    group: str = field(default_factory=lambda: uuid.uuid4().hex)
    changes: int = 0

    def created(self, record: Base, what: str) -> None:
        self.session.flush()
        self._add("create", record, None, snapshot(record), what)

    def updated(self, record: Base, before: dict[str, Any], what: str) -> None:
        """Records the change from `before`; an update that changed nothing is no change and not logged."""
        self.session.flush()
        after = snapshot(record)
        if after != before:
            self._add("update", record, before, after, what)

    def _add(
        self, action: str, record: Base, before: dict[str, Any] | None, after: dict[str, Any], what: str
    ) -> None:
        self.changes += 1
        self.session.add(
            AuditEntry(
                user_id=self.user_id,
                channel=self.channel,
                change_group=self.group,
                action=action,
                entity=record.__tablename__,
                entity_id=record.id,  # type: ignore[attr-defined]
                before=before,
                after={**after, "_what": what},
            )
        )


def _changed_by(entry: AuditEntry) -> dict[str, Any]:
    """The values an update changed, as they were before it: undo puts back these and nothing else, so
    undoing an activity's last_activity_at touch does not revert the deal's stage moved since."""
    before, after = entry.before or {}, entry.after or {}
    return {key: value for key, value in before.items() if after.get(key) != value}


def _model_for(table: str) -> type[Base]:
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == table:
            return mapper.class_
    raise KeyError(table)


# --- undone, derived from the append-only log ------------------------------------------------------


def undo_group(group: str) -> str:
    """The change group under which the undo of `group` is recorded."""
    return f"{UNDO_PREFIX}{group}"


def not_undone() -> ColumnElement[bool]:
    """A condition on AuditEntry: its change group has not been undone (no undo rows recorded for it)."""
    undo = aliased(AuditEntry)
    return ~exists().where(
        undo.action == "undo", undo.change_group == literal(UNDO_PREFIX) + AuditEntry.change_group
    )


def undo_last(session: Session, user_id: int, channel: str) -> str | None:
    """Reverts the user's newest change group; returns what it was, or None if there is nothing."""
    newest = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.user_id == user_id,
            AuditEntry.action.in_(("create", "update")),
            not_undone(),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.change_group == newest.change_group)
        .order_by(AuditEntry.id.desc())
    ).all()
    now = utcnow()
    what: list[str] = []
    for entry in entries:
        record = session.get(_model_for(entry.entity), entry.entity_id)
        if record is None:
            continue
        before = snapshot(record)
        if entry.action == "create":
            record.deleted_at = now  # type: ignore[attr-defined]
        elif entry.before is not None:
            _restore(record, _changed_by(entry))
        what.append(str((entry.after or {}).get("_what", entry.entity)))
        session.add(
            AuditEntry(
                user_id=user_id,
                channel=channel,
                change_group=undo_group(entry.change_group),
                action="undo",
                entity=entry.entity,
                entity_id=entry.entity_id,
                before=before,
                after=snapshot(record),
            )
        )
    session.flush()
    return "; ".join(dict.fromkeys(reversed(what)))  # a change group says each thing once
