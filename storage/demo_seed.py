"""`crm demo`: a deterministic demo company, Northwind Analytics, its customers and their pipeline.

Names, notes and articles come from the files in storage/demo/; deals, activities and tasks are drawn
from them with a fixed seed and placed around `now` (six months back and forward), so the same day
always gives the same company.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from storage.importing import import_csv
from storage.models import (
    Account,
    Activity,
    Contact,
    Customer,
    Deal,
    Task,
    Ticket,
    TicketMessage,
    User,
    name_key,
)
from storage.pipeline import default_pipeline

DATA = Path(__file__).with_name("demo")
SEED = 20261123
OPEN_STAGE_WEIGHTS = {"lead": 3, "qualified": 3, "proposal": 2, "negotiation": 2}
ACTIVITY_WEIGHTS = {"call": 4, "email": 4, "meeting": 2, "note": 1}


@dataclass(frozen=True)
class DemoSummary:
    users: list[tuple[str, str, str]]
    counts: dict[str, int]


def is_empty(session: Session) -> bool:
    return not any(session.scalar(select(exists().where(m.id.is_not(None)))) for m in (User, Account, Deal))


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def _short_name(account: str, suffixes: set[str]) -> str:
    words = account.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in suffixes else account


def _fill(template: str, **values: str) -> str:
    return template.format(**values)


def seed(session: Session, now: datetime) -> DemoSummary:
    """Fills an empty store; `now` is aware and in the configured zone."""
    tz = now.tzinfo
    assert tz is not None
    for kind in ("users", "accounts", "contacts", "kb"):
        with (DATA / f"{kind}.csv").open(encoding="utf-8", newline="") as stream:
            import_csv(session, kind, stream, tz, now)  # type: ignore[arg-type]

    rng = random.Random(SEED)
    pipeline = default_pipeline()
    products = _json("deal_products.json")
    suffixes = set(products["drop_suffixes"])
    notes = _json("activity_notes.json")
    titles = _json("task_titles.json")["tasks"]
    accounts = session.scalars(select(Account).order_by(Account.id)).all()
    contacts_of: dict[int, list[Contact]] = {}
    for person in session.scalars(select(Contact).order_by(Contact.id)):
        contacts_of.setdefault(person.account_id or 0, []).append(person)
    today = now.date()

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tz)

    deals: list[Deal] = []
    for account in accounts:
        for product in rng.sample(products["products"], 3):
            close = today + timedelta(days=rng.randint(-180, 180))
            if close < today - timedelta(days=10):
                stage = "won" if rng.random() < 0.55 else "lost"
            elif close < today:
                stage = rng.choice(["won", "lost", "negotiation", "proposal"])  # some slipped
            else:
                stage = rng.choices(list(OPEN_STAGE_WEIGHTS), list(OPEN_STAGE_WEIGHTS.values()))[0]
            created_day = min(close - timedelta(days=rng.randint(30, 120)), today - timedelta(days=3))
            amount = Decimal(rng.randrange(product["min"], product["max"] + 1, 500))
            name = f"{_short_name(account.name, suffixes)} {product['name']}"
            deals.append(
                Deal(
                    name=name,
                    name_key=name_key(name),
                    account_id=account.id,
                    amount=amount,
                    currency=pipeline.currency,
                    stage=stage,
                    probability=pipeline.stage(stage).probability,
                    close_date=close,
                    closed_on=None if pipeline.stage(stage).open else close,
                    owner_id=account.owner_id,
                    created_at=at(created_day, rng.randint(9, 17)),
                )
            )
    session.add_all(deals)
    session.flush()

    activities: list[Activity] = []
    for deal in deals:
        contacts = contacts_of.get(deal.account_id, [])
        start = deal.created_at.astimezone(tz).date()
        end = min(deal.close_date or today, today - timedelta(days=1))  # activities lie in the past
        for _ in range(rng.choices([0, 1, 2, 3, 4], [1, 3, 3, 2, 1])[0]):
            span = max((end - start).days, 0)
            day = start + timedelta(days=rng.randint(0, span))
            kind = rng.choices(list(ACTIVITY_WEIGHTS), list(ACTIVITY_WEIGHTS.values()))[0]
            contact = rng.choice(contacts) if contacts else None
            product = deal.name.removeprefix(_short_name(deal.account.name, suffixes)).strip()
            first = contact.name.split()[0] if contact else "the team"
            activities.append(
                Activity(
                    type=kind,
                    account_id=deal.account_id,
                    contact_id=contact.id if contact and kind != "note" else None,
                    deal_id=deal.id,
                    user_id=deal.owner_id,
                    channel="system",
                    occurred_at=at(day, rng.randint(8, 17), rng.choice([0, 15, 30, 45])),
                    notes=_fill(rng.choice(notes[kind]), contact=first, product=product),
                )
            )
    session.add_all(activities)

    tasks: list[Task] = []
    open_deals = [d for d in deals if pipeline.stage(d.stage).open]
    for i, deal in enumerate(rng.sample(open_deals, min(40, len(open_deals)))):
        contacts = contacts_of.get(deal.account_id, [])
        contact = rng.choice(contacts) if contacts else None
        product = deal.name.removeprefix(_short_name(deal.account.name, suffixes)).strip()
        if i < 8:
            due, status = today - timedelta(days=rng.randint(1, 10)), "open"  # overdue
        elif i < 16:
            due, status = today - timedelta(days=rng.randint(1, 20)), "done"
        else:
            due, status = today + timedelta(days=rng.randint(0, 14)), "open"
        title = rng.choice(titles)
        tasks.append(
            Task(
                title=_fill(
                    title,
                    contact=contact.name.split()[0] if contact else "the buyer",
                    account=deal.account.name,
                    product=product,
                ),
                due_at=at(due, rng.choice([9, 10, 11, 14, 15, 16])),
                due_has_time=True,
                status=status,
                assignee_id=deal.owner_id,
                created_by_id=deal.owner_id,
                account_id=deal.account_id,
                contact_id=contact.id if contact and "{contact}" in title else None,
                deal_id=deal.id,
                completed_at=at(due, 17) if status == "done" else None,
            )
        )
    session.add_all(tasks)

    tickets = _seed_tickets(session, now)
    session.flush()
    for deal in deals:
        latest = max((a.occurred_at for a in activities if a.deal_id == deal.id), default=None)
        if latest is not None:
            deal.last_activity_at = latest
    for account in accounts:
        session.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(
                last_activity_at=max(
                    (a.occurred_at for a in activities if a.account_id == account.id), default=None
                )
            )
        )
    session.flush()
    users = [(u.name, u.email, u.role) for u in session.scalars(select(User).order_by(User.id))]
    return DemoSummary(
        users=users,
        counts={
            "users": len(users),
            "accounts": len(accounts),
            "contacts": sum(len(c) for c in contacts_of.values()),
            "deals": len(deals),
            "activities": len(activities),
            "tasks": len(tasks),
            "tickets": tickets,
        },
    )


def _seed_tickets(session: Session, now: datetime) -> int:
    contacts = {c.email: c for c in session.scalars(select(Contact)) if c.email}
    raw = _json("tickets.json")["tickets"]
    for item in raw:
        contact = contacts.get(item["customer_email"])
        customer = Customer(
            name=item["customer_name"],
            email=item["customer_email"],
            contact_id=contact.id if contact else None,
        )
        opened = now - timedelta(days=item["days_ago"])
        ticket = Ticket(
            number=item["number"],
            subject=item["subject"],
            status=item["status"],
            priority=item["priority"],
            customer=customer,
            created_at=opened,
            updated_at=opened,
            csat=item.get("csat"),
            # a demo ticket solved before today was asked about already: nobody is asked for an old one
            csat_asked_at=opened + timedelta(days=1) if item["status"] in ("resolved", "closed") else None,
        )
        ticket.messages = [
            TicketMessage(
                author=m["from"],
                body=m["body"],
                created_at=opened + timedelta(hours=4 * i),
                seen_at=opened + timedelta(hours=4 * i + 1),  # the demo's customers read them long ago
            )
            for i, m in enumerate(item["messages"])
        ]
        session.add(ticket)
    return len(raw)
