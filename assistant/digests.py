"""Digests: each rep's morning (today's tasks, overdue ones, deals closing this week, deals gone quiet) and
each manager's Monday (pipeline by stage, what moved, slipped close dates), as outbox items.

A digest goes out at the schedule's time in the user's zone (`User.timezone`, else the runtime's), once
per local date (`digest:<user>:<date>`, `weekly:<user>:<date>`); one missed in the morning (cron down)
still goes out later that day, never on another day. A digest asks the skills' own queries through a
read-only turn, so it reads as the assistant's answers do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.audit import Recorder
from assistant.channels import Registry
from assistant.conversation import ConversationState
from assistant.messages import Reply
from assistant.outbox import Item, existing_keys
from assistant.recipients import staff_in_roles
from assistant.replies import day, long_day, money, say
from assistant.schedule import Schedule
from assistant.skills.pipeline import pipeline_report, query_deals
from assistant.skills.tasks import list_tasks
from assistant.turn import Turn
from assistant.undone import not_undone
from assistant.when import zone_of
from storage.models import AuditEntry, Deal, User
from storage.pipeline import default_pipeline

SECTION_LINES = 10  # a digest lists this many per section and says how many more there are


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
    account_text = say("task_account", account=account) if account != "-" else ""
    return say("digest_task_line", due=due, task=task, account=account_text)


def _deal_line(row: tuple[str, ...]) -> str:
    deal, account, stage, amount, close, _owner = row
    return say("digest_deal_line", deal=deal, account=account, stage=stage, amount=amount, close=close)


def _count(reply: Reply) -> int:
    return len(reply.table.rows) if reply.table else 0


def _deal_summary(reply: Reply) -> str:
    """query_deals' own headline ('3 deals worth $120,000'), or 'none'."""
    return reply.plain.rstrip(":") if reply.table else say("digest_none")


def daily_digest(session: Session, user: User, now: datetime, zone: ZoneInfo, schedule: Schedule) -> Reply:
    """Today's tasks, overdue ones, deals closing this week, deals gone quiet: the rep's morning."""
    turn = _turn(session, user, now, zone)
    today = turn.now.date()
    start_of_day = datetime.combine(today, time(0), zone)
    span = {"start": today.isoformat(), "end": today.isoformat()}
    todays = list_tasks(turn, {"period": span}, overdue_too=False)  # the overdue have their own section
    overdue = list_tasks(replace(turn, now=start_of_day), {"status": "overdue"})  # due before today began
    week_end = today + timedelta(days=6 - today.weekday())
    closing = query_deals(
        turn, {"owner": "me", "period": {"start": today.isoformat(), "end": week_end.isoformat()}}
    )
    quiet = query_deals(turn, {"owner": "me", "inactive_days": schedule.stale_days})
    assert isinstance(todays, Reply) and isinstance(overdue, Reply)
    assert isinstance(closing, Reply) and isinstance(quiet, Reply)
    sections = [
        say("digest_daily", name=user.name.split()[0], date=long_day(today)),
        say("digest_today", n=_count(todays)),
        *_lines(todays, _task_line),
        say("digest_overdue", n=_count(overdue)),
        *_lines(overdue, _task_line),
        say("digest_closing", summary=_deal_summary(closing)),
        *_lines(closing, _deal_line),
        say("digest_quiet", days=schedule.stale_days, summary=_deal_summary(quiet)),
        *_lines(quiet, _deal_line),
    ]
    return Reply(
        "\n".join(sections), speech=say("digest_daily_speech", today=_count(todays), overdue=_count(overdue))
    )


def daily_digests(
    session: Session, now: datetime, tz: ZoneInfo, schedule: Schedule, channels: Registry
) -> list[Item]:
    due: list[tuple[User, ZoneInfo, datetime, str]] = []
    for user in staff_in_roles(session, schedule.digest_roles):
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
            not_undone(),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    moves = []
    for entry, who in rows:
        before, after = entry.before or {}, entry.after or {}
        if before.get(field_name) != after.get(field_name):
            name = after.get("name") or before.get("name") or say("digest_unnamed_deal", id=entry.entity_id)
            moves.append(
                _Move(name, before.get(field_name), after.get(field_name), who or say("someone"), entry.at)
            )
    return moves


def weekly_digest(session: Session, user: User, now: datetime, zone: ZoneInfo) -> Reply:
    """Pipeline by stage, what moved in the last 7 days, and deals whose close date slipped."""
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
            owner=owner or say("nobody"),
        )
        for name, close, amount, owner in overdue
    ]

    def capped(lines: list[str]) -> list[str]:
        extra = [say("digest_more", n=len(lines) - SECTION_LINES)] if len(lines) > SECTION_LINES else []
        return lines[:SECTION_LINES] + extra

    sections = [
        say("digest_weekly", name=user.name.split()[0], date=long_day(today)),
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
    for user in staff_in_roles(session, schedule.weekly_roles):
        zone = zone_of(user, tz)
        local_now = now.astimezone(zone)
        moment = _digest_moment(local_now, frozenset({schedule.weekly_day}), schedule.weekly_at)
        if moment is not None:
            due.append((user, zone, moment, f"weekly:{user.id}:{local_now.date().isoformat()}"))
    return _digest_items(session, due, "weekly", lambda u, z: weekly_digest(session, u, now, z), channels)
