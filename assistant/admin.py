"""Store administration behind `crm init`, `import`, `export`, `users add` and `demo`.

The CLI calls these; they open the sessions, so adapters never touch the database themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from assistant.runtime import Runtime
from assistant.store_names import StoreNames
from intents.kb_classifier import KbClassifier, kb_classifier
from storage import backup, exporting, importing, migrate
from storage import demo_seed as demo
from storage.db import settle, transaction
from storage.models import AuditEntry, ChannelIdentity, User
from storage.roles import ROLES


class AdminError(Exception):
    """A request that cannot be carried out, with a message that says what to do."""


def init_store(runtime: Runtime) -> tuple[str | None, str | None]:
    return migrate.upgrade(runtime.engine)


BULK_ROWS = 10_000  # an import this big leaves PostgreSQL's statistics and visibility map behind (settle)


def import_file(
    runtime: Runtime, kind: str, path: Path, progress: importing.Progress | None = None
) -> importing.ImportResult:
    runtime.ensure_schema()
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream, transaction(runtime.sessions) as session:
            result = importing.import_csv(session, kind, stream, runtime.tz, runtime.now(), progress=progress)
    except FileNotFoundError:
        raise AdminError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        refusal = importing.undecodable(path)
        if refusal is None:  # only a file that changed while it was read decodes on a second look
            raise AdminError(f"{path} is not UTF-8 text") from None
        raise refusal from None
    if result.created + result.updated >= BULK_ROWS:
        settle(runtime.engine, IMPORTED_TABLES[kind])
    if kind == "kb":
        train_kb(runtime)
    return result


def train_kb(runtime: Runtime) -> KbClassifier:
    """Trains the knowledge-base classifier on the stored articles now (or finds it in the cache), so
    that the first customer question after an import does not wait for it."""
    return kb_classifier(list(StoreNames(runtime.sessions).articles()))


IMPORTED_TABLES = {
    "users": ("users", "channel_identities"),
    "accounts": ("accounts",),
    "contacts": ("contacts",),
    "deals": ("deals", "deal_totals"),
    "activities": ("activities",),
    "tasks": ("tasks",),
    "kb": ("kb_articles", "kb_questions"),
}


def export_kind(runtime: Runtime, kind: str, out: TextIO, fmt: str) -> int:
    runtime.ensure_schema()
    with runtime.sessions() as session:
        return exporting.export(session, kind, out, runtime.tz, fmt)


@dataclass(frozen=True)
class NewUser:
    name: str
    email: str
    role: str
    slack_id: str | None = None
    telegram_id: str | None = None


def add_user(runtime: Runtime, new: NewUser) -> User:
    """A staff user and the chat identities that map to it; refuses a taken e-mail or identity."""
    if new.role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in new.email:
        raise AdminError(f"{new.email!r} is not an e-mail address")
    runtime.ensure_schema()
    with transaction(runtime.sessions) as session:
        taken = session.scalar(select(User).where(func.lower(User.email) == new.email.lower()))
        if taken is not None:
            raise AdminError(f"a user with e-mail {new.email} exists already ({taken.name}, {taken.role})")
        user = User(name=new.name, email=new.email, role=new.role)
        session.add(user)
        session.flush()
        for channel, ext in (("slack", new.slack_id), ("telegram", new.telegram_id)):
            if not ext:
                continue
            owner = session.scalar(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_id == ext
                )
            )
            if owner is not None:
                raise AdminError(f"{channel} id {ext} already belongs to another user")
            session.add(ChannelIdentity(channel=channel, external_id=ext, user_id=user.id))
        session.add(
            AuditEntry(
                channel="terminal",
                change_group=f"user-{user.id}",
                action="create",
                entity="users",
                entity_id=user.id,
                after={"name": new.name, "email": new.email, "role": new.role},
            )
        )
        return user


def seed_demo(runtime: Runtime) -> demo.DemoSummary | None:
    """Seeds the demo company into an empty store; None when the store already holds data."""
    runtime.ensure_schema()
    with transaction(runtime.sessions) as session:
        if not demo.is_empty(session):
            return None
        return demo.seed(session, runtime.now())


def first_rep_email(runtime: Runtime) -> str | None:
    """Who the demo chats as: the first rep."""
    with runtime.sessions() as session:
        return session.scalars(
            select(User.email).where(User.role == "rep", User.deleted_at.is_(None)).order_by(User.id).limit(1)
        ).first()


def backup_store(runtime: Runtime, path: Path, force: bool = False) -> backup.Outcome:
    """A consistent copy of the whole store in `path`, taken while others keep using it."""
    runtime.ensure_schema()
    return backup.backup(runtime.engine, path, force)


def restore_store(runtime: Runtime, path: Path, force: bool = False) -> backup.Outcome:
    """Replaces the store with the backup in `path` (only an empty one unless force), then upgrades it."""
    return backup.restore(runtime.engine, path, force)
