"""What changed meanwhile: between the assistant's question and the user's yes, or between a change and
its undo, someone else (or the same person on another channel) may change the same record.

A question about a write remembers what it saw (`Seen`: each record's version, and where the audit log
stood). On the yes, the write's own audit entry says which fields it sets; the audit entries written
on the record since say who changed which fields, to what, and when. A change that touched a field
this write sets means the yes was given to a record that no longer is what was asked about: nothing is
written and the question is asked again with the news. A change to other fields is kept and told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.replies import say
from assistant.undone import undo_group, undone_group
from storage.models import AuditEntry, Base, User

NOT_FIELDS = {"id", "version", "created_at", "updated_at", "last_activity_at", "_what"}
LOOK_BACK = 50  # audit entries of one record read when looking for what changed it since


@dataclass
class Seen:
    """What a question about a write saw: each record's version, by "table:id", and the audit log's
    last id (for a record the question could not name yet: "did you mean ...?")."""

    since: int = 0
    versions: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "versions": dict(self.versions)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Seen | None:
        if not data:
            return None
        return cls(int(data.get("since", 0)), {str(k): int(v) for k, v in data.get("versions", {}).items()})


@dataclass
class Change:
    """One change someone else made to a record since a question (or since the change being undone)."""

    who: str
    at: datetime
    what: str
    fields: set[str]
    undone: bool = False  # taken back since by its author: it no longer stands
    by: int | None = None  # the user who made it (whichever channel they used); None for no one's
    group: str = ""  # its change group
    undoes: str | None = None  # for an undo, the change group it took back


def audit_mark(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def seen_of(session: Session, entries: list[AuditEntry]) -> Seen:
    """The versions the records of these update entries had before them: what a question asks about."""
    versions = {
        f"{e.entity}:{e.entity_id}": int(e.before["version"])
        for e in entries
        if e.action == "update" and e.before and isinstance(e.before.get("version"), int)
    }
    return Seen(audit_mark(session), versions)


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> set[str]:
    """The columns a change set to another value (bookkeeping columns left out)."""
    if not before or not after:
        return set()
    return {k for k, v in after.items() if k not in NOT_FIELDS and before.get(k) != v}


def changes_since(
    session: Session,
    entity: str,
    entity_id: int,
    *,
    version: int | None,
    since: int,
    skip_group: str,
    tz: ZoneInfo,
) -> list[Change] | None:
    """Others' audited changes to the record after it had `version` (or, without one, after audit id
    `since`), oldest first; None when the version moved and no audit entry says why (an import)."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == entity,
            AuditEntry.entity_id == entity_id,
            AuditEntry.action.in_(("update", "undo")),
            AuditEntry.change_group != skip_group,
        )
        .order_by(AuditEntry.id.desc())
        .limit(LOOK_BACK)
    ).all()
    found: list[AuditEntry] = []
    for entry in entries:
        read = (entry.before or {}).get("version")
        if (version is not None and isinstance(read, int) and read >= version) or (
            version is None and entry.id > since
        ):
            found.append(entry)
    out = [_change(session, e, tz) for e in reversed(found)]
    return out if found or version is None else None


def _change(session: Session, entry: AuditEntry, tz: ZoneInfo) -> Change:
    user = session.get(User, entry.user_id) if entry.user_id is not None else None
    who = user.name if user is not None else say("meanwhile_someone")
    at = entry.at.astimezone(tz)
    what = str((entry.after or {}).get("_what") or say("meanwhile_undone", what=_undone_what(session, entry)))
    taken_back = session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "undo", AuditEntry.change_group == undo_group(entry.change_group)
        )
    )
    return Change(
        who,
        at,
        what,
        changed_fields(entry.before, entry.after),
        taken_back is not None,
        by=entry.user_id,
        group=entry.change_group,
        undoes=undone_group(entry.change_group) if entry.action == "undo" else None,
    )


def _undone_what(session: Session, entry: AuditEntry) -> str:
    """An undo's entry has no words of its own: those of the change it put back."""
    group = undone_group(entry.change_group)
    undone = session.scalars(
        select(AuditEntry.after)
        .where(
            AuditEntry.entity == entry.entity,
            AuditEntry.entity_id == entry.entity_id,
            AuditEntry.change_group == group,
            AuditEntry.action.in_(("create", "update")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return str((undone or {}).get("_what", entry.entity))


def told(changes: list[Change]) -> str:
    """ "Priya Raman at 10:02: amount $90,000 on Globex Pilot; ...": who changed what to what, when."""
    return "; ".join(
        say("meanwhile_change", who=c.who, at=c.at.strftime("%H:%M"), what=c.what) for c in changes
    )


def label(record: Base) -> str:
    """A record as a person names it: its name, title, or ticket number."""
    for attribute in ("name", "title"):
        if isinstance(value := getattr(record, attribute, None), str):
            return value
    return say("meanwhile_ticket", number=getattr(record, "number", "?"))
