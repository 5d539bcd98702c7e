"""What is due at a moment, as outbox items: the pass that gathers task reminders, digests and stale-deal
alerts, the loop that runs it, and the task reminders themselves.

Every occurrence has a key, so working out what is due is safe to repeat: `crm reminders run` twice at
the same NOW, a cron job and `crm serve` side by side, two servers: each occurrence is enqueued once
(assistant/outbox.py) and then delivered once by whichever worker claims it.

- A task reminder fires at the task's `due_at` (an instant: a 09:00 reminder was stored as 09:00 local
  of its own date, so it stays 09:00 across a daylight-saving change) to its assignee, once per due
  time (`task:<id>:<due>`); snoozing (assistant/skills/tasks.py) moves `due_at`, which makes a new
  occurrence.
- Digests (assistant/digests.py) and stale-deal alerts (assistant/stale_alerts.py) go out as the
  `Schedule` (assistant/schedule.py) says.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from assistant.channels import Registry, default_registry
from assistant.digests import daily_digests, weekly_digests
from assistant.messages import Button, Reply
from assistant.outbox import Dispatcher, Item, Sent, analyze_after_burst, enqueue
from assistant.recipients import users_by_id
from assistant.replies import day, say
from assistant.runtime import Runtime
from assistant.schedule import Schedule
from assistant.stale_alerts import stale_alerts
from assistant.when import zone_of

__all__ = [
    "Due",
    "Schedule",
    "enqueue_due",
    "rederived_for",
    "run_due",
    "run_scheduler",
    "task_reminders",
    "task_reply",
]
from storage.db import transaction
from storage.models import Account, Task, User

log = logging.getLogger(__name__)

ENQUEUE_LOCK = 0x52454D44  # pg_advisory_xact_lock key: one scheduler at a time works out what is due


@dataclass
class Due:
    """What one pass found due, and how many of those were new in the outbox."""

    items: list[Item] = field(default_factory=list)
    enqueued: int = 0


# --- the pass: what is due at `now` ---------------------------------------------------------------------


def enqueue_due(
    runtime: Runtime,
    now: datetime | None = None,
    schedule: Schedule | None = None,
    channels: Registry | None = None,
) -> Due:
    """Works out everything due at `now` and puts it in the outbox, in one transaction."""
    runtime.ensure_schema()
    now = now or runtime.now()
    schedule = schedule or Schedule.from_env()
    channels = channels or default_registry()
    with transaction(runtime.sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENQUEUE_LOCK})
        due = Due()
        due.items += task_reminders(session, now, runtime.tz, channels)
        due.items += daily_digests(session, now, runtime.tz, schedule, channels)
        due.items += weekly_digests(session, now, runtime.tz, schedule, channels)
        due.items += stale_alerts(session, now, runtime.tz, schedule, channels)
        due.enqueued = enqueue(session, due.items)
    analyze_after_burst(runtime, due.enqueued)
    return due


def rederived_for(schedule: Schedule) -> timedelta:
    """How long after an occurrence fell due the pass may still work out its key, which is then all that
    keeps it from being sent again, so its sent row must outlive this (Dispatcher.prune): a stale-deal
    alert's key for the rest of its quiet period (stale_days), a digest's for the rest of its local day.
    A task reminder's never: the task's `reminded_at` is set with the enqueue."""
    return timedelta(days=schedule.stale_days + 1)


def run_due(
    runtime: Runtime,
    channels: Registry | None = None,
    schedule: Schedule | None = None,
    dispatcher: Dispatcher | None = None,
) -> list[Sent]:
    """`crm reminders run`: enqueue what is due at NOW, deliver everything deliverable, prune a round of
    what was sent long enough ago (a cron job is the only scheduler some stores have), return the sent."""
    channels = channels or default_registry()
    schedule = schedule or Schedule.from_env()
    dispatcher = dispatcher or Dispatcher(runtime, channels)
    enqueue_due(runtime, schedule=schedule, channels=channels)
    sent = dispatcher.run_once()
    dispatcher.prune_now_and_then(rederived_for(schedule))
    return sent


def run_scheduler(
    runtime: Runtime,
    stop_event: threading.Event,
    interval: float = 30.0,
    *,
    channels: Registry | None = None,
    schedule: Schedule | None = None,
    dispatcher: Dispatcher | None = None,
    enqueue_items: bool = True,
) -> int:
    """The loop inside `crm serve` (and in a worker process): enqueue what is due, deliver it, prune what
    was sent long enough ago (now and then), sleep.

    A failing round (database away) is logged and tried again after `interval`; rows a dead worker held
    are picked up once their lease ran out. Returns how many deliveries this loop made.
    """
    channels = channels or default_registry()
    dispatcher = dispatcher or Dispatcher(runtime, channels)
    schedule = schedule or Schedule.from_env()
    delivered = 0
    while not stop_event.is_set():
        try:
            if enqueue_items:
                enqueue_due(runtime, schedule=schedule, channels=channels)
            delivered += len(dispatcher.run_once(stop=stop_event.is_set))
            dispatcher.prune_now_and_then(rederived_for(schedule), stop=stop_event.is_set)
        except Exception:
            log.exception("reminder round failed; trying again in %.0f s", interval)
        stop_event.wait(interval)
    return delivered


# --- task reminders -------------------------------------------------------------------------------------


def task_reminders(session: Session, now: datetime, tz: ZoneInfo, channels: Registry) -> list[Item]:
    """Open tasks due by now and not reminded since they fell due; marks them reminded."""
    rows = session.execute(
        select(Task.id, Task.title, Task.due_at, Task.assignee_id, Account.name)
        .outerjoin(Account, Task.account_id == Account.id)
        .join(User, Task.assignee_id == User.id)
        .where(
            Task.status == "open",
            Task.deleted_at.is_(None),
            Task.due_at.is_not(None),
            Task.due_at <= now,
            or_(Task.reminded_at.is_(None), Task.reminded_at < Task.due_at),
            User.deleted_at.is_(None),
        )
        .order_by(Task.due_at, Task.id)
    ).all()
    if not rows:
        return []
    users = users_by_id(session, {r.assignee_id for r in rows})
    routes = channels.routes(session, users.values())
    items = []
    for task_id, title, due_at, assignee_id, account in rows:
        assert due_at is not None and assignee_id is not None  # the query asked for both
        user = users[assignee_id]
        channel, recipient = routes[user.id]
        items.append(
            Item(
                key=f"task:{task_id}:{due_at.astimezone(UTC).isoformat()}",
                kind="reminder",
                user_id=user.id,
                channel=channel,
                recipient=recipient,
                reply=task_reply(title, account, due_at, now, zone_of(user, tz)),
                due=due_at,
                context={"task_id": task_id},
            )
        )
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 1000):
        session.execute(
            update(Task)
            .where(Task.id.in_(ids[start : start + 1000]))
            .values(reminded_at=now, updated_at=Task.updated_at)  # a reminder is not an edit
            .execution_options(synchronize_session=False)
        )
    return items


def task_reply(title: str, account: str | None, due_at: datetime, now: datetime, zone: ZoneInfo) -> Reply:
    """The reminder and its buttons; each button sends words the dialogue understands."""
    when = day(due_at.astimezone(zone), now.astimezone(zone).date())
    return Reply(
        say(
            "reminder_task",
            task=title,
            account=say("task_account", account=account) if account else "",
            due=when,
        ),
        speech=say("reminder_task_speech", task=title),
        buttons=[
            Button(say("button_done"), say("button_done_value", task=title), "done"),
            Button(say("button_snooze_hour"), say("button_snooze_hour_value"), "snooze"),
            Button(say("button_snooze_tomorrow"), say("button_snooze_tomorrow_value"), "snooze"),
        ],
    )
