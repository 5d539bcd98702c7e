"""What is due at a moment: task reminders, daily and weekly digests, stale-deal alerts, as outbox items.

Every occurrence has a key, so working out what is due is safe to repeat: `crm reminders run` twice at
the same NOW, a cron job and `crm serve` side by side, two servers: each occurrence is enqueued once
(assistant/outbox.py) and then delivered once by whichever worker claims it.

- A task reminder fires at the task's `due_at` (an instant: a 09:00 reminder was stored as 09:00 local
  of its own date, so it stays 09:00 across a daylight-saving change) to its assignee, once per due
  time (`task:<id>:<due>`); snoozing moves `due_at`, which makes a new occurrence.
- A daily digest goes to each rep at 08:30 local on weekdays, in the user's zone (`User.timezone`, else
  the runtime's), once per local date; a weekly digest to each manager on Monday at 08:30 local. A
  digest missed in the morning (cron down) still goes out later that day, never on another day.
- A stale-deal alert goes to the owner of an open deal without activity for N days (default 14), once
  per N days of silence: the key counts the periods since the deal's last activity.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session

from assistant.audit import Recorder, snapshot
from assistant.channels import Registry, default_registry
from assistant.conversation import ConversationState
from assistant.messages import Button, Reply
from assistant.outbox import Dispatcher, Item, Sent, analyze_after_burst, enqueue, existing_keys
from assistant.permissions import can_change_task
from assistant.replies import day, money, say
from assistant.runtime import Runtime, SettingsError
from assistant.turn import Ask, Outcome, Turn, undo_button
from assistant.when import local, zone_of
from storage.db import transaction
from storage.models import Account, AuditEntry, Deal, Task, User
from storage.pipeline import default_pipeline

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECTION_LINES = 10  # a digest lists this many per section and says how many more there are
SNOOZE = timedelta(hours=1)
ENQUEUE_LOCK = 0x52454D44  # pg_advisory_xact_lock key: one scheduler at a time works out what is due


@dataclass(frozen=True)
class Schedule:
    """When digests and alerts go out. Defaults from the issue; `from_env` reads the CRM_* overrides."""

    digest_at: time = time(8, 30)
    digest_days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    digest_roles: tuple[str, ...] = ("rep",)
    weekly_day: int = 0  # Monday
    weekly_at: time = time(8, 30)
    weekly_roles: tuple[str, ...] = ("manager",)
    stale_days: int = 14

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Schedule:
        """CRM_DIGEST_AT=08:30, CRM_DIGEST_DAYS=mon,tue,wed,thu,fri, CRM_WEEKLY_DIGEST_AT='mon 08:30',
        CRM_STALE_DAYS=14."""
        schedule = cls()
        try:
            if value := env.get("CRM_DIGEST_AT"):
                schedule = replace(schedule, digest_at=time.fromisoformat(value))
            if value := env.get("CRM_DIGEST_DAYS"):
                days = frozenset(DAYS.index(d.strip().lower()[:3]) for d in value.split(",") if d.strip())
                schedule = replace(schedule, digest_days=days)
            if value := env.get("CRM_WEEKLY_DIGEST_AT"):
                weekday, at = value.split()
                schedule = replace(
                    schedule, weekly_day=DAYS.index(weekday.lower()[:3]), weekly_at=time.fromisoformat(at)
                )
            if value := env.get("CRM_STALE_DAYS"):
                schedule = replace(schedule, stale_days=int(value))
        except ValueError as error:
            raise SettingsError(
                f"a reminder setting cannot be used ({error}); see assistant/reminders.py"
            ) from None
        if schedule.stale_days < 1:
            raise SettingsError("CRM_STALE_DAYS must be 1 or more")
        return schedule


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


def run_due(
    runtime: Runtime,
    channels: Registry | None = None,
    schedule: Schedule | None = None,
    dispatcher: Dispatcher | None = None,
) -> list[Sent]:
    """`crm reminders run`: enqueue what is due at NOW, deliver everything deliverable, return it."""
    channels = channels or default_registry()
    enqueue_due(runtime, schedule=schedule, channels=channels)
    return (dispatcher or Dispatcher(runtime, channels)).run_once()


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
    """The loop inside `crm serve` (and in a worker process): enqueue what is due, deliver it, sleep.

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
    users = _users(session, {r.assignee_id for r in rows})
    routes = channels.routes(session, users.values())
    items = []
    for task_id, title, due_at, assignee_id, account in rows:
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
        say("reminder_task", task=title, account=f" ({account})" if account else "", due=when),
        speech=say("reminder_task_speech", task=title),
        buttons=[
            Button(say("button_done"), say("button_done_value", task=title), "done"),
            Button(say("button_snooze_hour"), say("button_snooze_hour_value"), "snooze"),
            Button(say("button_snooze_tomorrow"), say("button_snooze_tomorrow_value"), "snooze"),
        ],
    )


# --- digests --------------------------------------------------------------------------------------------


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _recipients(session: Session, roles: Sequence[str]) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role.in_(roles), User.deleted_at.is_(None)).order_by(User.id))
    )


def _digest_moment(local_now: datetime, days: frozenset[int], at: time) -> datetime | None:
    """Today's digest time if today is a digest day and the time has come, else None."""
    if local_now.weekday() not in days or local_now.time() < at:
        return None
    return datetime.combine(local_now.date(), at, local_now.tzinfo)


def _turn(session: Session, user: User, now: datetime, zone: ZoneInfo) -> Turn:
    """A read-only turn for the user, so the digest asks the skills' own queries in the user's zone."""
    return Turn(
        session,
        user,
        None,
        "system",
        now.astimezone(zone),
        zone,
        ConversationState(),
        Recorder(session, user.id, "system"),
    )


def _lines(reply: Reply, line: Callable[[tuple[str, ...]], str]) -> list[str]:
    rows = reply.table.rows if reply.table else ()
    out = [line(row) for row in rows[:SECTION_LINES]]
    if len(rows) > SECTION_LINES:
        out.append(say("digest_more", n=len(rows) - SECTION_LINES))
    return out


def _task_line(row: tuple[str, ...]) -> str:
    due, task, account = row
    return say("digest_task_line", due=due, task=task, account=f" ({account})" if account != "-" else "")


def _deal_line(row: tuple[str, ...]) -> str:
    deal, account, stage, amount, close, _owner = row
    return say("digest_deal_line", deal=deal, account=account, stage=stage, amount=amount, close=close)


def _deal_summary(reply: Reply) -> str:
    """query_deals' own headline ('3 deals worth $120,000'), or 'none'."""
    return reply.plain.rstrip(":") if reply.table else say("digest_none")


def daily_digest(session: Session, user: User, now: datetime, zone: ZoneInfo, schedule: Schedule) -> Reply:
    """Today's tasks, overdue ones, deals closing this week, deals gone quiet: the rep's morning."""
    from assistant.skills.pipeline import query_deals  # here, so SKILLS can list snooze_task: no cycle
    from assistant.skills.tasks import list_tasks

    turn = _turn(session, user, now, zone)
    today = turn.now.date()
    start_of_day = datetime.combine(today, time(0), zone)
    todays = list_tasks(turn, {"period": {"start": today.isoformat(), "end": today.isoformat()}})
    overdue = list_tasks(replace(turn, now=start_of_day), {"status": "overdue"})  # due before today began
    week_end = today + timedelta(days=6 - today.weekday())
    closing = query_deals(
        turn, {"owner": "me", "period": {"start": today.isoformat(), "end": week_end.isoformat()}}
    )
    quiet = query_deals(turn, {"owner": "me", "inactive_days": schedule.stale_days})
    assert isinstance(todays, Reply) and isinstance(overdue, Reply)
    assert isinstance(closing, Reply) and isinstance(quiet, Reply)
    count = lambda r: len(r.table.rows) if r.table else 0  # noqa: E731
    sections = [
        say("digest_daily", name=user.name.split()[0], date=f"{today:%A} {today.day} {today:%B}"),
        say("digest_today", n=count(todays)),
        *_lines(todays, _task_line),
        say("digest_overdue", n=count(overdue)),
        *_lines(overdue, _task_line),
        say("digest_closing", summary=_deal_summary(closing)),
        *_lines(closing, _deal_line),
        say("digest_quiet", days=schedule.stale_days, summary=_deal_summary(quiet)),
        *_lines(quiet, _deal_line),
    ]
    return Reply(
        "\n".join(sections), speech=say("digest_daily_speech", today=count(todays), overdue=count(overdue))
    )


def daily_digests(
    session: Session, now: datetime, tz: ZoneInfo, schedule: Schedule, channels: Registry
) -> list[Item]:
    due: list[tuple[User, ZoneInfo, datetime, str]] = []
    for user in _recipients(session, schedule.digest_roles):
        zone = zone_of(user, tz)
        local_now = now.astimezone(zone)
        moment = _digest_moment(local_now, schedule.digest_days, schedule.digest_at)
        if moment is not None:
            due.append((user, zone, moment, f"digest:{user.id}:{local_now.date().isoformat()}"))
    return _digest_items(
        session, due, "digest", lambda u, z: daily_digest(session, u, now, z, schedule), channels
    )


def _digest_items(
    session: Session,
    due: list[tuple[User, ZoneInfo, datetime, str]],
    kind: str,
    build: Callable[[User, ZoneInfo], Reply],
    channels: Registry,
) -> list[Item]:
    """Builds only the digests whose key is not in the outbox yet (a second pass costs one query)."""
    known = existing_keys(session, [key for *_, key in due])
    due = [d for d in due if d[3] not in known]
    routes = channels.routes(session, [user for user, *_ in due])
    items = []
    for user, zone, moment, key in due:
        channel, recipient = routes[user.id]
        items.append(Item(key, kind, user.id, channel, recipient, build(user, zone), moment))
    return items


@dataclass(frozen=True)
class _Move:
    deal: str
    before: Any
    after: Any
    who: str
    at: datetime


def _deal_changes(session: Session, since: datetime, field_name: str) -> list[_Move]:
    """Changes of one deal field since a moment, from the audit log (undone changes do not count)."""
    rows = session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, AuditEntry.user_id == User.id)
        .where(
            AuditEntry.entity == "deals",
            AuditEntry.action == "update",
            AuditEntry.at >= since,
            AuditEntry.undone_at.is_(None),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    moves = []
    for entry, who in rows:
        before, after = entry.before or {}, entry.after or {}
        if before.get(field_name) != after.get(field_name):
            name = after.get("name") or before.get("name") or f"deal {entry.entity_id}"
            moves.append(
                _Move(name, before.get(field_name), after.get(field_name), who or "someone", entry.at)
            )
    return moves


def weekly_digest(session: Session, user: User, now: datetime, zone: ZoneInfo) -> Reply:
    """Pipeline by stage, what moved in the last 7 days, and deals whose close date slipped."""
    from assistant.skills.pipeline import pipeline_report

    pipeline = default_pipeline()
    turn = _turn(session, user, now, zone)
    today = turn.now.date()
    report = pipeline_report(turn, {"metric": "pipeline", "group_by": "stage"})
    assert isinstance(report, Reply)
    since = now - timedelta(days=7)

    def label(stage: Any) -> str:
        try:
            return pipeline.stage(str(stage)).label
        except KeyError:
            return str(stage)

    moved = [
        say(
            "weekly_move_line",
            deal=m.deal,
            before=label(m.before),
            after=label(m.after),
            who=m.who,
            at=day(m.at.astimezone(zone), today),
        )
        for m in _deal_changes(session, since, "stage")
    ]
    pushed = [
        say(
            "weekly_slip_line",
            deal=m.deal,
            before=day(date.fromisoformat(m.before), today),
            after=day(date.fromisoformat(m.after), today),
            who=m.who,
        )
        for m in _deal_changes(session, since, "close_date")
        if m.before and m.after and m.after > m.before
    ]
    overdue = session.execute(
        select(Deal.name, Deal.close_date, Deal.amount, User.name)
        .outerjoin(User, Deal.owner_id == User.id)
        .where(Deal.deleted_at.is_(None), Deal.stage.in_(pipeline.open_keys), Deal.close_date < today)
        .order_by(Deal.close_date, Deal.id)
    ).all()
    passed = [
        say(
            "weekly_passed_line",
            deal=name,
            close=day(close, today),
            amount=money(amount) if amount else "-",
            owner=owner or "nobody",
        )
        for name, close, amount, owner in overdue
    ]

    def capped(lines: list[str]) -> list[str]:
        extra = [say("digest_more", n=len(lines) - SECTION_LINES)] if len(lines) > SECTION_LINES else []
        return lines[:SECTION_LINES] + extra

    sections = [
        say("digest_weekly", name=user.name.split()[0], date=f"{today:%A} {today.day} {today:%B}"),
        report.plain,
        say("weekly_moved", n=len(moved)),
        *capped(moved),
        say("weekly_slipped", n=len(pushed) + len(passed)),
        *capped(pushed + passed),
    ]
    return Reply(
        "\n".join(sections), table=report.table, speech=say("digest_weekly_speech", moved=len(moved))
    )


def weekly_digests(
    session: Session, now: datetime, tz: ZoneInfo, schedule: Schedule, channels: Registry
) -> list[Item]:
    due: list[tuple[User, ZoneInfo, datetime, str]] = []
    for user in _recipients(session, schedule.weekly_roles):
        zone = zone_of(user, tz)
        local_now = now.astimezone(zone)
        moment = _digest_moment(local_now, frozenset({schedule.weekly_day}), schedule.weekly_at)
        if moment is not None:
            due.append((user, zone, moment, f"weekly:{user.id}:{local_now.date().isoformat()}"))
    return _digest_items(session, due, "weekly", lambda u, z: weekly_digest(session, u, now, z), channels)


# --- stale deals ----------------------------------------------------------------------------------------


def stale_alerts(
    session: Session, now: datetime, tz: ZoneInfo, schedule: Schedule, channels: Registry
) -> list[Item]:
    """One alert per open deal and per N days without activity, counted from its last activity (or its
    creation): at 14 days, at 28 days... A new activity starts the count again."""
    period = timedelta(days=schedule.stale_days)
    cutoff = now - period
    anchor = func.coalesce(Deal.last_activity_at, Deal.created_at)
    rows = session.execute(
        select(Deal.id, Deal.name, Deal.owner_id, Deal.last_activity_at, Deal.created_at, Account.name)
        .join(Account, Deal.account_id == Account.id)
        .join(User, Deal.owner_id == User.id)
        .where(
            Deal.deleted_at.is_(None),
            Deal.stage.in_(default_pipeline().open_keys),
            User.deleted_at.is_(None),
            or_(
                and_(Deal.last_activity_at.is_(None), Deal.created_at <= cutoff),
                Deal.last_activity_at <= cutoff,
            ),
        )
        .order_by(anchor, Deal.id)
    ).all()
    candidates = []
    for deal_id, name, owner_id, last, created, account in rows:
        since = last or created
        periods = (now - since) // period
        if periods < 1:
            continue
        key = f"stale:{deal_id}:{since.astimezone(UTC):%Y%m%dT%H%M%S}:{periods}"
        candidates.append((key, deal_id, name, owner_id, since, account))
    known = existing_keys(session, [c[0] for c in candidates])
    candidates = [c for c in candidates if c[0] not in known]
    users = _users(session, {c[3] for c in candidates})
    routes = channels.routes(session, users.values())
    items = []
    for key, _deal, name, owner_id, since, account in candidates:
        user = users[owner_id]
        zone = zone_of(user, tz)
        days = (now - since).days
        reply = Reply(
            say(
                "stale_alert",
                deal=name,
                account=account,
                days=days,
                since=day(since.astimezone(zone), now.astimezone(zone).date()),
            ),
        )
        channel, recipient = routes[owner_id]
        items.append(Item(key, "alert", owner_id, channel, recipient, reply, now))
    return items


# --- snooze: the skill behind the reminder's snooze buttons ----------------------------------------------


def snooze_task(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """'remind me again in an hour' / 'tomorrow': moves the task just reminded of (the conversation's
    context, set when the reminder was delivered), else the user's latest reminded one. A new due time
    makes a new reminder occurrence; 'tomorrow' means 09:00 local, whatever the clocks did overnight."""
    assert turn.user is not None
    task = None
    if (task_id := turn.context.task_id) is not None:
        task = turn.session.get(Task, task_id)
    if task is None or task.status != "open" or task.deleted_at is not None:
        task = turn.session.scalars(
            select(Task)
            .where(
                Task.assignee_id == turn.user.id,
                Task.status == "open",
                Task.deleted_at.is_(None),
                Task.reminded_at.is_not(None),
            )
            .order_by(Task.reminded_at.desc(), Task.id.desc())
            .limit(1)
        ).first()
    if task is None:
        return Reply(say("snooze_nothing"))
    if not can_change_task(turn, task):
        return Reply(say("not_your_task", owner=task.assignee.name if task.assignee else "someone"))
    if slots.get("due"):
        due, has_time = local(slots["due"], turn.tz)
    else:
        due, has_time = turn.now + SNOOZE, True
    if due <= turn.now:
        return Ask("due", say("task_past_due", due=day(due, turn.now.date())))
    before = snapshot(task)
    task.due_at = due
    task.due_has_time = has_time
    turn.audit.updated(task, before, f"snoozed: {task.title}")
    turn.remember(task_id=task.id)
    return Reply(say("task_snoozed", task=task.title, due=day(due, turn.now.date())), buttons=undo_button())
