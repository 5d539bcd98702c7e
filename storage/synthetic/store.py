"""Building a synthetic store into a connection's transaction, and what a store says about itself: how
many live deals it holds, whether the generator built it (a marker row in the audit log), its staff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from storage.coltypes import utcnow
from storage.models import Account, Activity, AuditEntry, Contact, Deal, Task, User
from storage.synthetic.generator import STAFF_DOMAIN, Generator, Ids, deal_counts, make_staff
from storage.synthetic.names import CompanyNames
from storage.synthetic.writer import Writer, after_bulk_load

SEED = 20261123
MARKER = "synthetic"  # AuditEntry.entity of the row that says "this store was built by the generator"
DEALS_PER_ACCOUNT = 100
FLUSH_ROWS = 20_000  # rows buffered (of all tables, parents first) before they are written


class SyntheticError(Exception):
    """The store cannot take a synthetic build (it holds deals already), said so it can be fixed."""


@dataclass(frozen=True)
class SyntheticSummary:
    deals: int
    accounts: int
    contacts: int
    activities: int
    tasks: int
    users: int
    seed: int
    built_at: str  # the `now` the dates were placed around
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[int, int], None]  # (deals written, deals wanted)


def live_deals(connection: Connection) -> int:
    query = select(func.count()).select_from(Deal).where(Deal.deleted_at.is_(None))
    return int(connection.scalar(query) or 0)


def marker(connection: Connection) -> dict[str, Any] | None:
    """What the newest synthetic build into this store wrote about itself, if it was built so."""
    after = connection.scalar(
        select(AuditEntry.after)
        .where(AuditEntry.entity == MARKER, AuditEntry.action == "import")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return after if isinstance(after, dict) else None


def staff_emails(connection: Connection) -> list[tuple[str, str, str]]:
    """(name, email, role) of the generator's staff, managers first: who the benchmark talks as."""
    rows = connection.execute(
        select(User.name, User.email, User.role)
        .where(User.email.like(f"%@{STAFF_DOMAIN}"), User.deleted_at.is_(None))
        .order_by(User.id)
    ).all()
    return sorted(((n, e, r) for n, e, r in rows), key=lambda u: u[2] == "rep")


def _existing(connection: Connection) -> tuple[Ids, set[str], dict[str, int]]:
    ids = {"users": User.id, "accounts": Account.id, "contacts": Contact.id, "deals": Deal.id}
    ids.update({"activities": Activity.id, "tasks": Task.id})
    next_ids = {
        name: int(connection.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1
        for name, column in ids.items()
    }
    taken = set(connection.scalars(select(Account.name_key).where(Account.deleted_at.is_(None))))
    users = dict(connection.execute(select(User.email, User.id)).all())
    return Ids(next_ids), taken, {e.casefold(): i for e, i in users.items()}


def build(
    connection: Connection,
    deals: int,
    now: datetime,
    seed: int = SEED,
    allow_existing: bool = False,
    progress: Progress | None = None,
) -> SyntheticSummary:
    """Writes a store of `deals` deals into `connection`'s transaction (the caller commits).

    Refuses a store that already holds deals unless `allow_existing`: a benchmark on top of somebody's
    real pipeline would measure the wrong thing and leave thousands of fake deals in it.
    """
    if deals < 1:
        raise SyntheticError("the number of deals must be at least 1")
    began = time.perf_counter()
    existing = live_deals(connection)
    if existing and not allow_existing:
        raise SyntheticError(
            f"the store already holds {existing:,} deals; build into an empty store "
            "(or allow adding to a non-empty one explicitly)"
        )
    tz = now.tzinfo
    if tz is None:
        raise ValueError("`now` must be aware")
    rng = random.Random(seed)
    ids, taken, user_ids = _existing(connection)
    writer = Writer(connection)
    written = utcnow()  # updated_at is when a row was written: the wall clock, not the business `now`

    staff = make_staff(rng, ids, user_ids, written)
    writer.add(User, [row for row in staff if row.pop("_new")])
    writer.flush()
    reps = [u["id"] for u in staff if u["role"] == "rep"]
    managers = [u["id"] for u in staff if u["role"] == "manager"]

    n_accounts = max(1, round(deals / DEALS_PER_ACCOUNT))
    counts = deal_counts(rng, deals, n_accounts)
    names = CompanyNames(rng, taken)
    generator = Generator(rng, ids, now, written, reps, managers)
    done = contacts = activities = tasks = 0
    for count in counts:
        name, core = names.next()
        account, account_contacts, account_deals, account_activities, account_tasks = generator.account(
            name, core, count
        )
        writer.add(Account, [account])
        writer.add(Contact, account_contacts)
        writer.add(Deal, account_deals)
        writer.add(Activity, account_activities)
        writer.add(Task, account_tasks)
        contacts += len(account_contacts)
        activities += len(account_activities)
        tasks += len(account_tasks)
        done += count
        if writer.pending() >= FLUSH_ROWS:
            writer.flush()
            if progress:
                progress(done, deals)
    writer.flush()
    if progress:
        progress(done, deals)

    after_bulk_load(connection)
    summary = SyntheticSummary(
        deals=deals,
        accounts=n_accounts,
        contacts=contacts,
        activities=activities,
        tasks=tasks,
        users=len(staff),
        seed=seed,
        built_at=now.isoformat(),
        seconds=round(time.perf_counter() - began, 3),
    )
    connection.execute(
        insert(AuditEntry.__table__),  # type: ignore[arg-type]
        [
            {
                "at": written,
                "user_id": None,
                "channel": "system",
                "change_group": f"{MARKER}-{seed}",
                "action": "import",
                "entity": MARKER,
                "entity_id": None,
                "before": None,
                "after": summary.to_json(),
            }
        ],
    )
    return summary
