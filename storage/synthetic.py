"""Synthetic stores for `crm bench`: N deals with the accounts, contacts, activities and tasks around them.

Deterministic (one `random.Random(seed)`, dates placed around `now`), so two builds with the same seed and
day are the same store. Written with Core executemany in batches, not the ORM: 100,000 deals must build in
seconds and 1,000,000 in minutes. Ids are assigned here, so children point at parents without reading
anything back; PostgreSQL's sequences are moved past them at the end.

Shape (roughly what a sales team of 10-20 people has after a few years): N/100 accounts of very uneven
size, two contacts each, one activity per deal over the last six months (accounts' and deals'
last_activity_at kept consistent), N/20 open tasks, deals over every stage with close dates six months
back and forward and the stage's probability from storage/pipeline.json.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from storage.coltypes import utcnow
from storage.models import Account, Activity, AuditEntry, Contact, Deal, Task, User, name_key
from storage.pipeline import default_pipeline

DATA = Path(__file__).with_name("demo")
SEED = 20261123
MARKER = "synthetic"  # AuditEntry.entity of the row that says "this store was built by the generator"
DEALS_PER_ACCOUNT = 100
BATCH = 5_000  # rows per executemany: big enough to amortise the round trip, small enough for memory
FLUSH_ROWS = 20_000  # rows buffered (of all tables, parents first) before they are written
STAFF_DOMAIN = "bench.example"


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


SYLLABLES = _words(
    "ka lo ver ta min bro zen qui dal mor tex sul pra vin gor ne ri sa tor lu mi ca don fen gal hel jor "
    "kes lan mar nor pel quen ros sel tam vel wex yar zor bel cor dra fa gri hal kor len mo nix pax rel "
    "sto tri vo ar bi dex em fi go ha in ja ko lux ma nu or pi ru su ti ux vy xa"
)
INDUSTRY_WORDS = _words(
    "Systems Labs Logistics Foods Energy Health Analytics Robotics Partners Capital Media Software Pharma "
    "Motors Textiles Networks Dynamics Works Studios Retail Solar Freight Biotech Consulting Materials"
)
LEGAL_SUFFIXES = _words("Ltd Inc Corporation GmbH LLC AG SA BV PLC Group Holdings Co. International Pty LLP")
INDUSTRIES = _words(
    "Software,Manufacturing,Retail,Healthcare,Financial Services,Logistics,Energy,Education,Media,"
    "Telecommunications,Construction,Hospitality,Pharmaceuticals,Automotive,Agriculture,Insurance",
    sep=",",
)
FIRST_NAMES = _words(
    "Aaron Abigail Adele Adrian Aisha Alan Alba Alice Amara Amir Ana Andre Angela Anika Arjun Astrid Ayla "
    "Ben Bianca Boris Brenda Bruno Camila Carla Cedric Chen Chiara Clara Colin Dana Darius Diego Dmitri "
    "Edith Elena Elif Emeka Emil Erin Esther Farah Felix Fiona Gareth Gemma Gustav Hana Hassan Hugo Ida "
    "Igor Imani Ines Irene Isaac Ivan Jasper Javier Jin Joanna Jonas Julia Kai Karim Kenji Lara Leila "
    "Leon Lina Lucas Luka Magnus Mara Marco Mei Milan Mira Nadia Naomi Nikolai Nora Olga Omar Oscar Paula "
    "Pedro Petra Rafael Rana Rhea Rosa Ruben Sanjay Sara Selin Simone Stefan Tamar Teresa Theo Uma Vera "
    "Victor Wanda Yara Yusuf Zara Zoltan"
)
LAST_NAMES = _words(
    "Abbott Adler Alvarez Andersen Arslan Bauer Becker Bianchi Blake Brandt Brennan Castillo Chandra "
    "Costa Dalton Das Delgado Dubois Eriksen Esposito Farrell Fernandes Fischer Foster Gallo Garcia Gomez "
    "Gupta Hale Hansen Harper Haas Ibrahim Ito Jensen Joshi Kaur Keller Khan Kim Kovac Kowalski Lang "
    "Larsen Laurent Lehmann Lopez Lund Maier Marin Mendez Meyer Moreau Murphy Nakamura Navarro Nguyen "
    "Novak Olsen Ortiz Park Patel Perez Petrov Quinn Ramos Reyes Ricci Rios Romero Russo Sato Schmidt "
    "Schulz Silva Singh Sousa Stewart Suzuki Svensson Tanaka Torres Tran Vargas Vogel Wagner Walsh Weber "
    "Wolf Yamamoto Young Zhang Ziegler Zimmermann"
)
STAFF_FIRST = _words(
    "Beatrix Cassius Delphine Evander Florian Griselda Horatio Isolde Leopold Marisol Octavia Percival "
    "Quentin Rosalind Severin Thaddeus Ulrika Valentina Wilhelmina Xavier"
)
STAFF_LAST = _words(
    "Ashdown Brightwater Coldfield Dunmore Everhart Fairweather Greythorne Hollis Ivers Kingsley Lockwood "
    "Merriweather Northcott Oakhurst Pendleton Quarrington Redfern Stonebridge Thistlewood Underhill"
)
TITLES = _words(
    "CEO,CFO,CTO,COO,VP Sales,VP Engineering,Head of Operations,Head of Finance,IT Director,"
    "Procurement Manager,Data Lead,Product Manager,Operations Manager,Finance Director,Office Manager",
    sep=",",
)
OPEN_STAGE_WEIGHTS = {"lead": 3, "qualified": 3, "proposal": 2, "negotiation": 2}
ACTIVITY_WEIGHTS = {"call": 4, "email": 4, "meeting": 2, "note": 1}
ACTIVITIES_PER_DEAL = ((0, 1, 2, 3), (30, 45, 20, 5))  # one per deal on average
OPEN_TASK_RATE = 0.05  # N/20 open tasks
DONE_TASK_RATE = 0.02


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
Row = dict[str, Any]


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


@dataclass
class _Ids:
    """The next id of each table, so parents and children are linked without a read-back."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def _deal_counts(rng: random.Random, deals: int, accounts: int) -> list[int]:
    """Deals per account, summing to `deals`: lognormal, so a few accounts are big and many are small."""
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(accounts)]
    total = sum(weights)
    counts = [int(deals * w / total) for w in weights]
    for i in range(deals - sum(counts)):
        counts[i % accounts] += 1
    return counts


class _Names:
    """Unique, varied company names built from syllables, with legal suffixes: 'Kalover Analytics GmbH'."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken  # name keys of live accounts
        self.cores: set[str] = set()

    def _word(self) -> str:
        return "".join(self.rng.choices(SYLLABLES, k=self.rng.choice((2, 2, 3)))).title()

    def next(self) -> tuple[str, str]:
        """(full name, core name): the core is what deals are named after and is unique too."""
        while True:
            shape = self.rng.random()
            if shape < 0.45:
                core = f"{self._word()} {self.rng.choice(INDUSTRY_WORDS)}"
            elif shape < 0.75:
                core = self._word()
            elif shape < 0.9:
                core = f"{self._word()} {self._word()}"
            else:
                core = f"{self._word()} & {self._word()}"
            name = f"{core} {self.rng.choice(LEGAL_SUFFIXES)}"
            key, core_key = name_key(name), name_key(core)
            if key in self.taken or core_key in self.cores or len(core_key) < 5:
                continue
            self.taken.add(key)
            self.cores.add(core_key)
            return name, core


def _aware(day: date, hour: int, minute: int, tz: Any) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def _existing(connection: Connection) -> tuple[_Ids, set[str], dict[str, int]]:
    tables = {"users": User, "accounts": Account, "contacts": Contact, "deals": Deal}
    tables.update({"activities": Activity, "tasks": Task})
    next_ids = {
        name: int(connection.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1
        for name, model in tables.items()
    }
    taken = set(connection.scalars(select(Account.name_key).where(Account.deleted_at.is_(None))))
    users = dict(connection.execute(select(User.email, User.id)).all())
    return _Ids(next_ids), taken, {e.casefold(): i for e, i in users.items()}


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
    writer = _Writer(connection)
    written = utcnow()  # updated_at is when a row was written: the wall clock, not the business `now`

    staff = _staff(rng, ids, user_ids, written)
    writer.add(User, [row for row in staff if row.pop("_new")])
    writer.flush()
    reps = [u["id"] for u in staff if u["role"] == "rep"]
    managers = [u["id"] for u in staff if u["role"] == "manager"]

    n_accounts = max(1, round(deals / DEALS_PER_ACCOUNT))
    counts = _deal_counts(rng, deals, n_accounts)
    names = _Names(rng, taken)
    generator = _Generator(rng, ids, now, written, reps, managers)
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

    _after_bulk_load(connection)
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
                "undone_at": None,
            }
        ],
    )
    return summary


def _staff(rng: random.Random, ids: _Ids, user_ids: dict[str, int], stamp: datetime) -> list[dict[str, Any]]:
    """10-20 staff: reps and one manager, first names unlike any contact's so "Florian's deals" is clear."""
    n_reps = rng.randint(10, 16)
    names = zip(rng.sample(STAFF_FIRST, n_reps + 1), rng.sample(STAFF_LAST, n_reps + 1), strict=True)
    out: list[dict[str, Any]] = []
    for i, (first, last) in enumerate(names):
        email = f"{first.lower()}.{last.lower()}@{STAFF_DOMAIN}"
        known = user_ids.get(email)
        out.append(
            {
                "id": known if known is not None else ids.take("users"),
                "name": f"{first} {last}",
                "email": email,
                "role": "manager" if i == 0 else "rep",
                "timezone": None,
                "created_at": stamp,
                "updated_at": stamp,
                "deleted_at": None,
                "_new": known is None,
            }
        )
    return out


class _Generator:
    """The rows of one account: the account, its contacts, deals, their activities and tasks."""

    def __init__(
        self,
        rng: random.Random,
        ids: _Ids,
        now: datetime,
        written: datetime,
        reps: list[int],
        managers: list[int],
    ) -> None:
        self.rng = rng
        self.ids = ids
        self.now = now
        self.tz = now.tzinfo
        self.today = now.date()
        self.reps = reps
        self.managers = managers
        self.pipeline = default_pipeline()
        self.products = _json("deal_products.json")["products"]
        self.notes = _json("activity_notes.json")
        self.titles = _json("task_titles.json")["tasks"]
        self.stamp = now.astimezone(UTC)
        self.written = written

    def account(
        self, name: str, core: str, n_deals: int
    ) -> tuple[Row, list[Row], list[Row], list[Row], list[Row]]:
        rng = self.rng
        account_id = self.ids.take("accounts")
        owner = rng.choice(self.reps)
        domain = "".join(c for c in core.lower() if c.isalnum()) + ".example"
        contacts = [self._contact(account_id, domain) for _ in range(rng.choice((1, 2, 2, 2, 3)))]
        deals: list[dict[str, Any]] = []
        activities: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        used: dict[str, int] = {}
        for _ in range(n_deals):
            deal = self._deal(account_id, core, owner, used)
            deal_activities = self._activities(deal, contacts)
            if deal_activities:
                deal["last_activity_at"] = max(a["occurred_at"] for a in deal_activities)
            deals.append(deal)
            activities.extend(deal_activities)
            task = self._task(deal, name, contacts)
            if task is not None:
                tasks.append(task)
        latest = max((d["last_activity_at"] for d in deals if d["last_activity_at"]), default=None)
        account = {
            "id": account_id,
            "name": name,
            "name_key": name_key(name),
            "domain": domain,
            "industry": rng.choice(INDUSTRIES),
            "owner_id": owner,
            "last_activity_at": latest,
            "created_at": self.stamp - timedelta(days=rng.randint(400, 1500)),
            "updated_at": self.written,
            "deleted_at": None,
        }
        return account, contacts, deals, activities, tasks

    def _contact(self, account_id: int, domain: str) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        return {
            "id": self.ids.take("contacts"),
            "name": name,
            "name_key": name_key(name),
            "email": f"{first.lower()}.{last.lower()}@{domain}",
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "title": rng.choice(TITLES),
            "account_id": account_id,
            "created_at": self.written,
            "updated_at": self.written,
            "deleted_at": None,
        }

    def _deal(self, account_id: int, core: str, owner: int, used: dict[str, int]) -> dict[str, Any]:
        rng = self.rng
        product = rng.choice(self.products)
        base = f"{core} {product['name']}"
        n = used.get(base, 0) + 1
        used[base] = n
        name = base if n == 1 else f"{base} {n}"
        close = self.today + timedelta(days=rng.randint(-182, 182))
        if close < self.today - timedelta(days=10):
            stage = "won" if rng.random() < 0.55 else "lost"
        elif close < self.today:
            stage = rng.choice(("won", "lost", "negotiation", "proposal"))  # some slipped
        else:
            stage = rng.choices(list(OPEN_STAGE_WEIGHTS), list(OPEN_STAGE_WEIGHTS.values()))[0]
        stage_info = self.pipeline.stage(stage)
        created_day = min(close - timedelta(days=rng.randint(30, 120)), self.today - timedelta(days=3))
        created = _aware(created_day, rng.randint(8, 17), rng.choice((0, 15, 30, 45)), self.tz)
        return {
            "id": self.ids.take("deals"),
            "name": name,
            "name_key": name_key(name),
            "account_id": account_id,
            "amount": rng.randrange(product["min"], product["max"] + 1, 500),
            "currency": self.pipeline.currency,
            "stage": stage,
            "probability": stage_info.probability,
            "close_date": close,
            "owner_id": owner,
            "closed_on": None if stage_info.open else close,
            "last_activity_at": None,
            "created_at": created,
            "updated_at": self.written,
            "deleted_at": None,
        }

    def _activities(self, deal: dict[str, Any], contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rng = self.rng
        n = rng.choices(*ACTIVITIES_PER_DEAL)[0]
        if not n:
            return []
        start = max(deal["created_at"].astimezone(self.tz).date(), self.today - timedelta(days=182))
        end = min(deal["close_date"], self.today - timedelta(days=1))
        span = max((end - start).days, 0)
        product = deal["name"]
        out = []
        for _ in range(n):
            day = start + timedelta(days=rng.randint(0, span))
            kind = rng.choices(list(ACTIVITY_WEIGHTS), list(ACTIVITY_WEIGHTS.values()))[0]
            contact = rng.choice(contacts)
            occurred = _aware(day, rng.randint(8, 17), rng.choice((0, 15, 30, 45)), self.tz)
            note = rng.choice(self.notes[kind]).format(contact=contact["name"].split()[0], product=product)
            out.append(
                {
                    "id": self.ids.take("activities"),
                    "type": kind,
                    "account_id": deal["account_id"],
                    "contact_id": contact["id"] if kind != "note" else None,
                    "deal_id": deal["id"],
                    "user_id": deal["owner_id"],
                    "channel": "system",
                    "occurred_at": occurred,
                    "notes": note,
                    "created_at": occurred,
                    "updated_at": occurred,
                    "deleted_at": None,
                }
            )
        return out

    def _task(
        self, deal: dict[str, Any], account: str, contacts: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        rng = self.rng
        draw = rng.random()
        if draw >= OPEN_TASK_RATE + DONE_TASK_RATE:
            return None
        done = draw >= OPEN_TASK_RATE
        if done:
            due = self.today - timedelta(days=rng.randint(1, 30))
        else:  # overdue, today (the busiest single day) or the next three weeks
            due = self.today + timedelta(days=rng.choice((-7, -3, -2, -1, 0, 0, 0, 1, 1, 2, 3, 5, 7, 14, 21)))
        contact = rng.choice(contacts)
        title = rng.choice(self.titles)
        product = deal["name"]
        due_at = _aware(due, rng.choice((9, 10, 11, 14, 15, 16)), 0, self.tz)
        assignee = rng.choice(self.managers) if rng.random() < 0.03 else deal["owner_id"]
        return {
            "id": self.ids.take("tasks"),
            "title": title.format(contact=contact["name"].split()[0], account=account, product=product),
            "due_at": due_at,
            "due_has_time": True,
            "status": "done" if done else "open",
            "assignee_id": assignee,
            "created_by_id": deal["owner_id"],
            "account_id": deal["account_id"],
            "contact_id": contact["id"] if "{contact}" in title else None,
            "deal_id": deal["id"],
            "completed_at": due_at if done else None,
            "reminded_at": None,
            "created_at": self.written,
            "updated_at": self.written,
            "deleted_at": None,
        }


class _Writer:
    """Buffers rows per table and writes them parents first, one executemany per table and batch."""

    ORDER = (User, Account, Contact, Deal, Activity, Task)

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rows: dict[type, list[dict[str, Any]]] = {model: [] for model in self.ORDER}

    def add(self, model: type, rows: list[dict[str, Any]]) -> None:
        self.rows[model].extend(rows)

    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def flush(self) -> None:
        for model in self.ORDER:
            rows = self.rows[model]
            table: Table = model.__table__  # type: ignore[attr-defined]
            for chunk in _chunks(rows, BATCH):
                self.connection.execute(insert(table), chunk)
            rows.clear()


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _after_bulk_load(connection: Connection) -> None:
    """PostgreSQL: sequences past the ids written here, and fresh planner statistics.

    Autovacuum would analyse the new rows eventually; a benchmark that starts a second later would
    otherwise measure plans made for empty tables (`db.settle` vacuums too, after the commit).
    SQLite keeps no statistics unless asked (the product never runs ANALYZE), so it is measured as a
    real SQLite store is.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in ("users", "accounts", "contacts", "deals", "activities", "tasks"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    connection.execute(text("ANALYZE"))
