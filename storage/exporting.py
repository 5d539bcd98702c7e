"""`crm export`: every kind as CSV or JSON lines, in the columns `crm import` reads back."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from storage.csv_formats import EXPORT_KINDS, FORMATS
from storage.models import (
    Account,
    Activity,
    ChannelIdentity,
    Contact,
    Customer,
    Deal,
    KbArticle,
    Task,
    Ticket,
    User,
)
from storage.values import format_amount, format_datetime

Record = dict[str, str]


def export(session: Session, kind: str, out: TextIO, tz: ZoneInfo, fmt: str = "csv") -> int:
    """Writes every live record of `kind` to `out`; returns how many."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(EXPORT_KINDS)}")
    columns = FORMATS[kind].columns
    records = _RECORDS[kind](session, tz)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for count, record in enumerate(records, 1):  # noqa: B007
            writer.writerow(record)
    elif fmt == "jsonl":
        for count, record in enumerate(records, 1):  # noqa: B007
            out.write(json.dumps({c: record[c] or None for c in columns}, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; csv or jsonl")
    return count


def _emails(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.email)).all())


def _users(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    identities: dict[tuple[int | None, str], str] = {
        (uid, channel): ext
        for uid, channel, ext in session.execute(
            select(ChannelIdentity.user_id, ChannelIdentity.channel, ChannelIdentity.external_id).where(
                ChannelIdentity.user_id.is_not(None)
            )
        )
    }
    for user in session.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.id)):
        yield {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "slack_id": identities.get((user.id, "slack"), ""),
            "telegram_id": identities.get((user.id, "telegram"), ""),
        }


def _accounts(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    emails = _emails(session)
    for a in session.scalars(select(Account).where(Account.deleted_at.is_(None)).order_by(Account.id)):
        yield {
            "name": a.name,
            "domain": a.domain or "",
            "industry": a.industry or "",
            "owner_email": emails.get(a.owner_id, "") if a.owner_id else "",
        }


def _account_names(session: Session) -> dict[int, str]:
    return _names(session, Account)


def _contacts(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    accounts = _account_names(session)
    for c in session.scalars(select(Contact).where(Contact.deleted_at.is_(None)).order_by(Contact.id)):
        yield {
            "name": c.name,
            "email": c.email or "",
            "phone": c.phone or "",
            "title": c.title or "",
            "account": accounts.get(c.account_id, "") if c.account_id else "",
        }


def _deals(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    accounts = _account_names(session)
    emails = _emails(session)
    query = select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id).execution_options(yield_per=5000)
    for d in session.scalars(query):
        yield {
            "name": d.name,
            "account": accounts[d.account_id],
            "amount": format_amount(d.amount),
            "stage": d.stage,
            "close_date": d.close_date.isoformat() if d.close_date else "",
            "owner_email": emails.get(d.owner_id, "") if d.owner_id else "",
            "created_at": format_datetime(d.created_at, tz),
        }


def _names(session: Session, model: Any) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.name)).all())


def _linked(session: Session) -> tuple[dict[int, str], dict[int, str], dict[int, str], dict[int, str]]:
    return _account_names(session), _names(session, Contact), _names(session, Deal), _emails(session)


def _activities(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    accounts, contacts, deals, emails = _linked(session)
    query = select(Activity).where(Activity.deleted_at.is_(None)).order_by(Activity.id)
    for a in session.scalars(query.execution_options(yield_per=5000)):
        yield {
            "type": a.type,
            "account": accounts[a.account_id],
            "contact": contacts.get(a.contact_id, "") if a.contact_id else "",
            "deal": deals.get(a.deal_id, "") if a.deal_id else "",
            "occurred_at": format_datetime(a.occurred_at, tz),
            "notes": a.notes or "",
            "user_email": emails.get(a.user_id, "") if a.user_id else "",
        }


def _tasks(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    accounts, contacts, deals, emails = _linked(session)
    query = select(Task).where(Task.deleted_at.is_(None)).order_by(Task.id)
    for t in session.scalars(query.execution_options(yield_per=5000)):
        yield {
            "title": t.title,
            "due": format_datetime(t.due_at, tz, t.due_has_time),
            "account": accounts.get(t.account_id, "") if t.account_id else "",
            "contact": contacts.get(t.contact_id, "") if t.contact_id else "",
            "deal": deals.get(t.deal_id, "") if t.deal_id else "",
            "assignee_email": emails.get(t.assignee_id, "") if t.assignee_id else "",
            "status": t.status,
        }


def _kb(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    query = (
        select(KbArticle)
        .where(KbArticle.deleted_at.is_(None))
        .order_by(KbArticle.id)
        .options(selectinload(KbArticle.questions))
    )
    for article in session.scalars(query):
        for i, question in enumerate(article.questions):
            first = i == 0
            yield {
                "article": article.key,
                "question": question.question,
                "answer": article.answer if first else "",
                "title": article.title if first else "",
            }


def _tickets(session: Session, tz: ZoneInfo) -> Iterator[Record]:
    customer = aliased(Customer)
    query = (
        select(Ticket, customer)
        .outerjoin(customer, Ticket.customer_id == customer.id)
        .where(Ticket.deleted_at.is_(None))
        .order_by(Ticket.number)
    )
    for ticket, who in session.execute(query):
        yield {
            "number": str(ticket.number),
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "customer_name": (who.name or "") if who else "",
            "customer_email": (who.email or "") if who else "",
            "created_at": format_datetime(ticket.created_at, tz),
            "assignee": ticket.assignee.email if ticket.assignee else "",
            "csat": "" if ticket.csat is None else str(ticket.csat),
        }


_RECORDS = {
    "users": _users,
    "accounts": _accounts,
    "contacts": _contacts,
    "deals": _deals,
    "activities": _activities,
    "tasks": _tasks,
    "kb": _kb,
    "tickets": _tickets,
}
