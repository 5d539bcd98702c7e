"""The read questions of the benchmark's mix as hand-written SQL on the same store, each fetching what
the skill's answer shows: the yardstick a turn's latency is compared with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from storage.models import Account, Activity, Contact, Deal, Task, User, name_key
from storage.pipeline import default_pipeline

LIST_LIMIT = 10  # what query_deals shows; the SQL twins fetch the same
TASK_LIMIT = 50
STALE_DAYS = 14
BIG_DEAL = 50_000


@dataclass(frozen=True)
class Question:
    """What one SQL twin needs: who asks, the names the turn mentioned, and the calendar of `now`."""

    user_id: int
    colleague: str  # a full name
    account: str
    contact: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()

    def month(self) -> tuple[date, date]:
        first = self.today.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt - timedelta(days=1)

    def quarter(self, back: int = 0) -> tuple[date, date]:
        index = self.today.year * 4 + (self.today.month - 1) // 3 - back
        first = date(index // 4, 3 * (index % 4) + 1, 1)
        nxt = (first + timedelta(days=95)).replace(day=1)
        return first, nxt - timedelta(days=1)

    def year(self) -> tuple[date, date]:
        return date(self.today.year, 1, 1), date(self.today.year, 12, 31)


SqlTwin = Callable[[Connection, Question], object]
OPEN = default_pipeline().open_keys
LIVE = Deal.deleted_at.is_(None)


def _deals(connection: Connection, where: Sequence[Any], order: Sequence[Any]) -> object:
    """A deal list as query_deals answers it: the first rows with account and owner, and the totals."""
    rows = connection.execute(
        select(Deal.name, Account.name, Deal.stage, Deal.amount, Deal.close_date, User.name)
        .join(Account, Account.id == Deal.account_id)
        .outerjoin(User, User.id == Deal.owner_id)
        .where(LIVE, *where)
        .order_by(*order)
        .limit(LIST_LIMIT)
    ).all()
    totals = connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount), 0)).where(LIVE, *where)
    ).one()
    return rows, totals


def sql_top_deals_month(connection: Connection, ask: Question) -> object:
    first, last = ask.month()
    where = (Deal.stage.in_(OPEN), Deal.close_date.between(first, last))
    return _deals(connection, where, (Deal.amount.desc().nulls_last(), Deal.id))


def sql_closing_quarter_over(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter()
    where = (Deal.stage.in_(OPEN), Deal.close_date.between(first, last), Deal.amount >= BIG_DEAL)
    return _deals(connection, where, (Deal.close_date, Deal.id))


def sql_colleague_open_deals(connection: Connection, ask: Question) -> object:
    owner = select(User.id).where(User.name == ask.colleague, User.deleted_at.is_(None)).scalar_subquery()
    return _deals(connection, (Deal.stage.in_(OPEN), Deal.owner_id == owner), (Deal.close_date, Deal.id))


def sql_my_open_deals(connection: Connection, ask: Question) -> object:
    where = (Deal.stage.in_(OPEN), Deal.owner_id == ask.user_id)
    return _deals(connection, where, (Deal.close_date, Deal.id))


def sql_stale_deals(connection: Connection, ask: Question) -> object:
    since = ask.now - timedelta(days=STALE_DAYS)
    quiet = Deal.last_activity_at.is_(None) | (Deal.last_activity_at < since)
    return _deals(connection, (Deal.stage.in_(OPEN), quiet), (Deal.close_date, Deal.id))


def sql_pipeline_by_stage(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Deal.stage, func.count(), func.sum(Deal.amount))
        .where(LIVE, Deal.stage.in_(OPEN))
        .group_by(Deal.stage)
    ).all()


def sql_pipeline_by_rep(connection: Connection, ask: Question) -> object:
    by_owner = (
        select(Deal.owner_id, func.count().label("n"), func.sum(Deal.amount).label("amount"))
        .where(LIVE, Deal.stage.in_(OPEN))
        .group_by(Deal.owner_id)
        .subquery()
    )
    return connection.execute(
        select(User.name, by_owner.c.n, by_owner.c.amount).outerjoin_from(
            by_owner, User, User.id == by_owner.c.owner_id
        )
    ).all()


def sql_forecast_quarter(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter()
    return connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount * Deal.probability) / 100, 0)).where(
            LIVE, Deal.stage.in_(OPEN), Deal.close_date.between(first, last)
        )
    ).one()


def sql_win_rate_year(connection: Connection, ask: Question) -> object:
    first, last = ask.year()
    return connection.execute(
        select(func.count(), func.sum(case((Deal.stage == "won", 1), else_=0))).where(
            LIVE, Deal.stage.in_(("won", "lost")), Deal.closed_on.between(first, last)
        )
    ).one()


def sql_won_last_quarter(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter(back=1)
    return connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount), 0)).where(
            LIVE, Deal.stage == "won", Deal.closed_on.between(first, last)
        )
    ).one()


def sql_account_summary(connection: Connection, ask: Question) -> object:
    account = connection.execute(
        select(Account.id, Account.name, Account.industry, User.name)
        .outerjoin(User, User.id == Account.owner_id)
        .where(Account.name_key == name_key(ask.account), Account.deleted_at.is_(None))
    ).first()
    if account is None:
        return None
    deals = connection.execute(
        select(Deal.name, Deal.stage, Deal.amount, Deal.close_date)
        .where(LIVE, Deal.account_id == account.id, Deal.stage.in_(OPEN))
        .order_by(Deal.close_date)
    ).all()
    last = connection.execute(
        select(Activity.type, Activity.occurred_at, Activity.notes)
        .where(Activity.account_id == account.id, Activity.deleted_at.is_(None))
        .order_by(Activity.occurred_at.desc())
        .limit(1)
    ).first()
    tasks = connection.scalar(
        select(func.count()).where(
            Task.account_id == account.id, Task.status == "open", Task.deleted_at.is_(None)
        )
    )
    return account, deals, last, tasks


def sql_account_contacts(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Contact.name, Contact.title, Contact.email, Contact.phone)
        .join(Account, Account.id == Contact.account_id)
        .where(
            Account.name_key == name_key(ask.account),
            Account.deleted_at.is_(None),
            Contact.deleted_at.is_(None),
        )
        .order_by(Contact.name)
    ).all()


def sql_contact_email(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Contact.name, Contact.email)
        .where(Contact.name_key == name_key(ask.contact), Contact.deleted_at.is_(None))
        .limit(1)
    ).first()


def _tasks(connection: Connection, ask: Question, *where: Any) -> object:
    return connection.execute(
        select(Task.due_at, Task.title, Account.name)
        .outerjoin(Account, Account.id == Task.account_id)
        .where(Task.assignee_id == ask.user_id, Task.status == "open", Task.deleted_at.is_(None), *where)
        .order_by(Task.due_at)
        .limit(TASK_LIMIT)
    ).all()


def sql_tasks_today(connection: Connection, ask: Question) -> object:
    start = datetime.combine(ask.today, datetime.min.time(), ask.now.tzinfo)
    return _tasks(connection, ask, and_(Task.due_at >= start, Task.due_at < start + timedelta(days=1)))


def sql_overdue_tasks(connection: Connection, ask: Question) -> object:
    return _tasks(connection, ask, Task.due_at < ask.now)
