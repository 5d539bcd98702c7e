"""Stale-deal alerts: the owner of an open deal without activity for N days (default 14) hears of it once
per N days of silence, as outbox items; the key counts the periods since the deal's last activity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.channels import Registry
from assistant.messages import Reply
from assistant.outbox import Item, existing_keys
from assistant.recipients import users_by_id
from assistant.replies import day, say
from assistant.schedule import Schedule
from assistant.skills.quiet import last_touched, quiet_since, touched_at
from assistant.when import zone_of
from storage.models import Account, Deal, User
from storage.pipeline import default_pipeline


def stale_alerts(
    session: Session, now: datetime, tz: ZoneInfo, schedule: Schedule, channels: Registry
) -> list[Item]:
    """One alert per open deal and per N days without activity, counted from its last activity (or its
    creation: assistant/skills/quiet.py): at 14 days, at 28 days... A new activity starts the count
    again."""
    period = timedelta(days=schedule.stale_days)
    cutoff = now - period
    rows = session.execute(
        select(Deal.id, Deal.name, Deal.owner_id, Deal.last_activity_at, Deal.created_at, Account.name)
        .join(Account, Deal.account_id == Account.id)
        .join(User, Deal.owner_id == User.id)
        .where(
            Deal.deleted_at.is_(None),
            Deal.stage.in_(default_pipeline().open_keys),
            User.deleted_at.is_(None),
            quiet_since(cutoff),
        )
        .order_by(last_touched(), Deal.id)
    ).all()
    candidates = []
    for deal_id, name, owner_id, last, created, account in rows:
        assert owner_id is not None  # the query joined the owner
        since = touched_at(last, created)
        periods = (now - since) // period
        if periods < 1:
            continue
        key = f"stale:{deal_id}:{since.astimezone(UTC):%Y%m%dT%H%M%S}:{periods}"
        candidates.append((key, deal_id, name, owner_id, since, account))
    known = existing_keys(session, [c[0] for c in candidates])
    candidates = [c for c in candidates if c[0] not in known]
    users = users_by_id(session, {c[3] for c in candidates})
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
