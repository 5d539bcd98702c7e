"""When a deal has gone quiet: the one rule behind "deals with no activity in 2 weeks" (query_deals),
the morning digest's quiet deals and the stale-deal alerts.

A deal's silence is counted from its last activity, else from its creation: a deal created minutes ago
has had no activity yet, but it is not stale. A deal is quiet since `cutoff` when that moment is at or
before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

from storage.models import Deal


def last_touched() -> ColumnElement[Any]:
    """The moment a deal's silence is counted from, as SQL: its last activity, else its creation."""
    return func.coalesce(Deal.last_activity_at, Deal.created_at)


def touched_at(last_activity_at: datetime | None, created_at: datetime) -> datetime:
    """The same moment for a deal already read."""
    return last_activity_at or created_at


def quiet_since(cutoff: datetime) -> ColumnElement[bool]:
    """Deals with nothing since `cutoff`, as SQL; spelt out (not a coalesce) so that the indexes on
    last_activity_at still serve it."""
    return or_(
        Deal.last_activity_at <= cutoff,
        and_(Deal.last_activity_at.is_(None), Deal.created_at <= cutoff),
    )


def active_since(cutoff: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The other deals, in two parts that never overlap: an activity after `cutoff`, and no activity
    but a creation after it. Counted apart, each part walks ix_deals_recent_activity; as one OR,
    SQLite reads every open deal instead."""
    return (
        Deal.last_activity_at > cutoff,
        and_(Deal.last_activity_at.is_(None), Deal.created_at > cutoff),
    )
