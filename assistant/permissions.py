"""Who may change what: reps read everything and change their own deals and tasks; managers and admins
change anything; customers reach none of the staff records."""

from __future__ import annotations

from assistant.turn import Turn
from storage.models import Deal, Task


def can_change_deal(turn: Turn, deal: Deal) -> bool:
    return turn.is_manager or (turn.user is not None and deal.owner_id in (turn.user.id, None))


def can_change_task(turn: Turn, task: Task) -> bool:
    if turn.is_manager or turn.user is None:
        return turn.is_manager
    return turn.user.id in (task.assignee_id, task.created_by_id)
