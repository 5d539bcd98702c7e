"""Every change the assistant makes is recorded (who, channel, before/after) so `undo` can put it back.

One turn is one change group; undo reverts the user's newest group that is not undone yet. The log is
append-only (the database refuses UPDATE and DELETE on audit_log, see migration 0010): an undo is
recorded as new "undo" rows in the group `undo-<group>`, and whether a group is undone is derived from
them (assistant/undone.py), never stored on the rows it undid.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Numeric, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from assistant.meanwhile import Change, changed_fields, changes_since, label
from assistant.replies import say
from assistant.undone import not_undone, undo_group
from storage.coltypes import UTCDateTime, utcnow
from storage.models import AuditEntry, Base

SKIP = {"created_at", "updated_at"}
DERIVED = {"last_activity_at"}  # moved by logging activities, not edited by anyone
UTC = ZoneInfo("UTC")  # when a change was made does not matter to what undo puts back


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


def _loaded(column: Any, value: Any) -> Any:
    """A snapshot's JSON value as the column holds it (a Decimal, a date...)."""
    if value is not None:
        if isinstance(column.type, UTCDateTime | DateTime):
            return datetime.fromisoformat(value)
        if isinstance(column.type, Date):
            return date.fromisoformat(value)
        if isinstance(column.type, Numeric):
            return Decimal(value)
    return value


def _holds(record: Base, key: str, value: Any) -> bool:
    """Whether the record's field still holds a snapshot's value ("120000" is 120000.00)."""
    column = record.__table__.columns.get(key)
    return column is None or getattr(record, key) == _loaded(column, value)


def _restore(record: Base, values: dict[str, Any]) -> None:
    columns = {c.key: c for c in record.__table__.columns}
    derived: dict[str, Any] = {}
    for key, value in values.items():
        column = columns.get(key)
        if column is None or key in ("id", "version", *SKIP):  # the version only ever goes up
            continue
        if key in DERIVED:
            derived[key] = _loaded(column, value)
        else:
            setattr(record, key, _loaded(column, value))
    if derived:  # by a statement of its own, as the activity moved it: no new version (skills/activities)
        model = type(record)
        session = object_session(record)
        assert session is not None
        session.execute(update(model).where(model.id == record.id).values(**derived))  # type: ignore[attr-defined]
        for key, value in derived.items():
            set_committed_value(record, key, value)


@dataclass
class Recorder:
    session: Session
    user_id: int | None
    channel: str
    group: str = field(default_factory=lambda: uuid.uuid4().hex)
    changes: int = 0
    entries: list[AuditEntry] = field(default_factory=list)  # this turn's, in order: what a write set

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
        entry = AuditEntry(
            user_id=self.user_id,
            channel=self.channel,
            change_group=self.group,
            action=action,
            entity=record.__tablename__,
            entity_id=record.id,  # type: ignore[attr-defined]
            before=before,
            after={**after, "_what": what},
        )
        self.entries.append(entry)
        self.session.add(entry)


def _changed_by(entry: AuditEntry) -> set[str]:
    """Every column an update set to another value, bookkeeping ones too: undoing a logged call puts
    the deal's last activity back (if no later activity moved it) as well as what a user sees."""
    before, after = entry.before or {}, entry.after or {}
    return {key for key, value in before.items() if key in after and after[key] != value}


def model_for(table: str) -> type[Base]:
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == table:
            return mapper.class_
    raise KeyError(table)


def _newest_group(session: Session, user_id: int) -> list[AuditEntry]:
    """The entries of the user's newest change group not undone yet, newest first."""
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
        return []
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.change_group == newest.change_group)
            .order_by(AuditEntry.id.desc())
        )
    )


def _what(entries: list[AuditEntry]) -> str:
    what = [str((entry.after or {}).get("_what", entry.entity)) for entry in entries]
    return "; ".join(dict.fromkeys(reversed(what)))  # a change group says each thing once


def _standing(later: list[Change], user_id: int) -> list[Change]:
    """The changes since that are someone else's and still stand, so undo must not overwrite them unasked.

    Not the user's own, from whichever channel: every change of theirs after the one being undone was
    undone first (undo takes the newest), so their own undo rows are not news to them. Not a change
    taken back since, nor the undo that took back a change made since: the two together leave nothing
    of it. An undo of a change made before stands: it put an older value back over the user's."""
    since = {c.group for c in later}
    return [
        c for c in later if c.by != user_id and not c.undone and (c.undoes is None or c.undoes not in since)
    ]


def _clashes(session: Session, entry: AuditEntry, record: Base, user_id: int, tz: ZoneInfo) -> list[Change]:
    """The changes since `entry` that undoing it would overwrite: others' standing changes to a field it
    set that holds another value now, or to a record it created; or, when no audited change explains a
    field's new value, the record's last change itself (an import)."""
    if entry.entity_id is None or not entry.after:
        return []
    version = entry.after.get("version")
    later = (
        changes_since(
            session,
            entry.entity,
            entry.entity_id,
            version=version if isinstance(version, int) else None,
            since=entry.id,
            skip_group=entry.change_group,
            tz=tz,
        )
        or []
    )
    standing = _standing(later, user_id)
    if entry.action == "create":
        return standing
    moved = {
        f for f in changed_fields(entry.before, entry.after) if not _holds(record, f, entry.after.get(f))
    }
    told_of = [c for c in standing if c.fields & moved]
    unexplained = moved - {f for c in later for f in c.fields}  # the user's own changes explain a field too
    if unexplained and not told_of:
        at = record.updated_at.astimezone(tz)  # type: ignore[attr-defined]
        what = say("meanwhile_fields", fields=", ".join(sorted(unexplained)), record=label(record))
        told_of = [Change(say("meanwhile_someone"), at, what, unexplained)]
    return told_of


def undo_clashes(session: Session, user_id: int, tz: ZoneInfo) -> tuple[str, list[Change]]:
    """What undo would revert, and the changes others made since to what it would put back: a field of
    it that holds another value now, or a record it created that others changed since. Undo must
    not overwrite those without asking."""
    entries = _newest_group(session, user_id)
    clashes: list[Change] = []
    for entry in entries:
        record = session.get(model_for(entry.entity), entry.entity_id)
        if record is not None:
            clashes += _clashes(session, entry, record, user_id, tz)
    return _what(entries), clashes


def undo_last(session: Session, user_id: int, channel: str, over: bool = False) -> str | None:
    """Reverts the user's newest change group; returns what it was, or None if there is nothing.

    Only the fields a change set are put back, so a colleague's later change to another field stays;
    a field someone changed again since is put back only `over` their change (the user said so after
    `undo_clashes` told them). A field that moved only by the user's own changes since (an undo of
    theirs made over a colleague's) or by changes taken back since is put back: no one else's stands."""
    entries = _newest_group(session, user_id)
    if not entries:
        return None
    now = utcnow()
    for entry in entries:
        record = session.get(model_for(entry.entity), entry.entity_id)
        if record is None:
            continue
        before = snapshot(record)
        if entry.action == "create":
            record.deleted_at = now  # type: ignore[attr-defined]
        elif entry.before is not None:
            after = entry.after or {}
            theirs = (
                set()
                if over
                else {f for c in _clashes(session, entry, record, user_id, UTC) for f in c.fields}
            )
            put_back = {
                f: entry.before.get(f)
                for f in _changed_by(entry)
                if _holds(record, f, after.get(f))
                or (f in changed_fields(entry.before, after) and f not in theirs)
            }
            _restore(record, put_back)
        session.flush()  # the write raises the record's version: the undo row records it as stored
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
    return _what(entries)
