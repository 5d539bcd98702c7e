"""The rows of a synthetic store: 10-20 staff, and account by account its contacts, deals over every stage
with close dates six months back and forward, one activity per deal over the last six months (accounts'
and deals' last_activity_at kept consistent) and N/20 open tasks.

Ids are assigned here (`Ids`), so children point at parents without reading anything back.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.models import name_key
from storage.pipeline import default_pipeline
from storage.synthetic.names import words

DATA = Path(__file__).parents[1] / "demo"  # the demo company's products, notes and task titles
STAFF_DOMAIN = "bench.example"
OPEN_STAGE_WEIGHTS = {"lead": 3, "qualified": 3, "proposal": 2, "negotiation": 2}
ACTIVITY_WEIGHTS = {"call": 4, "email": 4, "meeting": 2, "note": 1}
ACTIVITIES_PER_DEAL = ((0, 1, 2, 3), (30, 45, 20, 5))  # one per deal on average
OPEN_TASK_RATE = 0.05  # N/20 open tasks
DONE_TASK_RATE = 0.02

Row = dict[str, Any]


@dataclass
class Ids:
    """The next id of each table, so parents and children are linked without a read-back."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def deal_counts(rng: random.Random, deals: int, accounts: int) -> list[int]:
    """Deals per account, summing to `deals`: lognormal, so a few accounts are big and many are small."""
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(accounts)]
    total = sum(weights)
    counts = [int(deals * w / total) for w in weights]
    for i in range(deals - sum(counts)):
        counts[i % accounts] += 1
    return counts


def _aware(day: date, hour: int, minute: int, tz: Any) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


def make_staff(
    rng: random.Random, ids: Ids, user_ids: dict[str, int], stamp: datetime
) -> list[dict[str, Any]]:
    """10-20 staff: reps and one manager, first names unlike any contact's so "Florian's deals" is clear."""
    n_reps = rng.randint(10, 16)
    names = zip(
        rng.sample(words("staff_first"), n_reps + 1), rng.sample(words("staff_last"), n_reps + 1), strict=True
    )
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


class Generator:
    """The rows of one account: the account, its contacts, deals, their activities and tasks."""

    def __init__(
        self,
        rng: random.Random,
        ids: Ids,
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
            "industry": rng.choice(words("industries")),
            "owner_id": owner,
            "last_activity_at": latest,
            "created_at": self.stamp - timedelta(days=rng.randint(400, 1500)),
            "updated_at": self.written,
            "deleted_at": None,
        }
        return account, contacts, deals, activities, tasks

    def _contact(self, account_id: int, domain: str) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(words("first_names")), rng.choice(words("last_names"))
        name = f"{first} {last}"
        return {
            "id": self.ids.take("contacts"),
            "name": name,
            "name_key": name_key(name),
            "email": f"{first.lower()}.{last.lower()}@{domain}",
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "title": rng.choice(words("titles")),
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
