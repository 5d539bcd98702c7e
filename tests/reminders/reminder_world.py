"""A small world to remind: users, tasks and deals written straight to the store, and what the
recording channel delivered, read back from it. (A module of its own, not conftest, so that test modules
can import it by a name no other test folder uses.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from assistant.channels import ChannelError, Outgoing, Registry
from assistant.outbox import Dispatcher, Sent
from assistant.reminders import Schedule, enqueue_due
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import Account, Deal, Delivery, Task, User, name_key

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))  # the runtime fixture's clock: a Monday


@dataclass
class Network:
    """A platform channel: sends outside the store and remembers which keys it was given."""

    name: str = "recording"
    identity: str | None = None
    keys: list[str] = field(default_factory=list)
    fail_first: bool = False

    def send(self, message: Outgoing) -> None:
        if self.fail_first and not self.keys:
            self.keys.append("(failed)")
            raise ChannelError("timeout")
        self.keys.append(message.key)


@dataclass
class World:
    runtime: Runtime
    channels: Registry

    def user(self, name: str, role: str = "rep", timezone: str | None = None) -> int:
        email = f"{name.lower().replace(' ', '.')}@example.test"
        with transaction(self.runtime.sessions) as session:
            user = User(name=name, email=email, role=role, timezone=timezone)
            session.add(user)
            session.flush()
            return user.id

    def account(self, name: str, owner: int | None = None) -> int:
        with transaction(self.runtime.sessions) as session:
            account = Account(name=name, name_key=name_key(name), owner_id=owner)
            session.add(account)
            session.flush()
            return account.id

    def task(
        self,
        title: str,
        assignee: int,
        due: datetime | None,
        account: int | None = None,
        has_time: bool = True,
    ) -> int:
        with transaction(self.runtime.sessions) as session:
            task = Task(
                title=title,
                due_at=due,
                due_has_time=has_time,
                assignee_id=assignee,
                created_by_id=assignee,
                account_id=account,
            )
            session.add(task)
            session.flush()
            return task.id

    def deal(
        self,
        name: str,
        account: int,
        owner: int,
        *,
        stage: str = "proposal",
        amount: int = 10_000,
        close: date | None = None,
        last_activity: datetime | None = None,
        created: datetime | None = None,
    ) -> int:
        with transaction(self.runtime.sessions) as session:
            deal = Deal(
                name=name,
                name_key=name_key(name),
                account_id=account,
                owner_id=owner,
                stage=stage,
                amount=Decimal(amount),
                close_date=close,
                last_activity_at=last_activity,
                created_at=created or self.runtime.now() - timedelta(days=1),
            )
            session.add(deal)
            session.flush()
            return deal.id

    def run(self, now: datetime, schedule: Schedule | None = None, **dispatch: object) -> list[Sent]:
        """`crm reminders run` at `now`, on the recording channel."""
        enqueue_due(self.runtime, now, schedule or Schedule(), self.channels)
        return self.dispatcher(lambda: now, **dispatch).run_once()

    def dispatcher(self, clock: Callable[[], datetime], **options: object) -> Dispatcher:
        return Dispatcher(self.runtime, self.channels, clock=clock, **options)  # type: ignore[arg-type]

    def delivered(self) -> list[Delivery]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    def delivered_keys(self) -> dict[str, int]:
        with self.runtime.sessions() as session:
            rows = session.execute(
                select(Delivery.idempotency_key, func.count()).group_by(Delivery.idempotency_key)
            ).all()
        return {key: n for key, n in rows}


def zoned(runtime: Runtime, zone: str, now: datetime) -> Runtime:
    """The same store with another runtime zone and clock."""
    return Runtime(runtime.database_url, ZoneInfo(zone), now)
