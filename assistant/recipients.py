"""Who a scheduled message goes to: the users a pass found due by id, or the live staff of some roles.

Shared by task reminders, digests and stale-deal alerts, which each turn rows into outbox items.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import User


def users_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def staff_in_roles(session: Session, roles: Sequence[str]) -> list[User]:
    return list(
        session.scalars(select(User).where(User.role.in_(roles), User.deleted_at.is_(None)).order_by(User.id))
    )
