"""create_task, list_tasks, complete_task and snooze_task: the follow-ups reps trust the assistant with,
and the skill behind a reminder's snooze buttons."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, utils
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant import records
from assistant.audit import snapshot
from assistant.messages import Reply, Table
from assistant.permissions import can_change_task
from assistant.replies import day, say
from assistant.turn import Ask, Choose, Outcome, Turn, undo_button
from assistant.when import local, period
from storage.models import Account, Contact, Task, User

SNOOZE = timedelta(hours=1)  # "remind me again" without a time
SNOOZE_RECENT = timedelta(hours=12)  # a reminder older than this is not what "remind me again" is about


# "remind me to call": a verb that needs a person. The title is completed with whom ("call Jane Doe",
# "follow up with Acme Corporation") once the answer names someone.
PERSON_VERBS = {
    "call": "call",
    "call back": "call back",
    "ring": "ring",
    "phone": "phone",
    "email": "email",
    "e-mail": "e-mail",
    "mail": "mail",
    "text": "text",
    "ping": "ping",
    "message": "message",
    "meet": "meet",
    "meet with": "meet with",
    "visit": "visit",
    "chase": "chase",
    "contact": "contact",
    "follow up": "follow up with",
    "follow up with": "follow up with",
    "reach out": "reach out to",
    "reach out to": "reach out to",
    "check": "check in with",  # the parser keeps "check" of "check in"
    "check in": "check in with",
    "check in with": "check in with",
    "get back to": "get back to",
    "write to": "write to",
    "talk to": "talk to",
    "speak to": "speak to",
}
PRONOUNS = {"them", "him", "her", "they"}


def _person_verb(title: str) -> tuple[str, bool] | None:
    """('call', False) for "call", ('call', True) for "call them": a task that is only a verb (and a
    pronoun) and says nobody; None for a task that says what it is."""
    words = re.sub(r"[^\w\s-]", " ", title.casefold()).split()
    pronoun = bool(words) and words[-1] in PRONOUNS
    phrase = " ".join(words[:-1] if pronoun else words)
    verb = PERSON_VERBS.get(phrase)
    return (verb, pronoun) if verb else None


def _whom(turn: Turn, slots: dict[str, Any]) -> str | None:
    """Whom the task is about, as its title names them: the contact, else the deal, else the account."""
    if slots.get("contact"):
        contact = records.contact(turn, slots)
        return contact.name if contact else None
    if slots.get("deal"):
        return records.deal(turn, slots).name
    if slots.get("account"):
        return records.account(turn, slots).name
    return None


def _complete_title(turn: Turn, slots: dict[str, Any]) -> dict[str, Any] | Ask:
    """A task that is only a verb ("remind me to call") asks whom and when before anything is created;
    "call them" takes whom from the conversation. The slots come back with a full title."""
    assert turn.user is not None
    title = slots["task"]
    bare = _person_verb(title)
    if bare is None:
        return slots
    verb, pronoun = bare
    slots = dict(slots)
    if pronoun and not any(slots.get(k) for k in ("contact", "account", "deal")):
        context = turn.context
        contact = turn.session.get(Contact, context.contact_id) if context.contact_id else None
        account = turn.session.get(Account, context.account_id) if context.account_id else None
        if contact is not None and contact.deleted_at is None:
            slots["contact"] = contact.name
        elif account is not None and account.deleted_at is None:
            slots["account"] = account.name
    whom = _whom(turn, slots)
    assignee = records.user(turn, slots.get("assignee"))
    you = assignee.name if assignee is not None and assignee.id != turn.user.id else say("you")
    if whom is None:
        if slots.get("due"):
            return Ask("contact", say("ask_task_whom", who=you, verb=verb), accepts=("account", "deal"))
        question = say("ask_task_whom_when", who=you, verb=verb)
        return Ask("contact", question, accepts=("account", "deal", "due"))
    if not slots.get("due"):
        return Ask("due", say("ask_task_when", who=you, verb=verb, whom=whom))
    slots["task"] = f"{verb} {whom}"
    return slots


def create_task(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    title = slots.get("task")
    if not title and slots.get("due") and _reminded(turn) is not None:
        return snooze_task(turn, slots)  # "remind me friday" just after a reminder: that one again
    if not title:
        return Ask("task", say("ask_task"))
    completed = _complete_title(turn, slots)
    if isinstance(completed, Ask):
        return completed
    slots, title = completed, completed["task"]
    assignee = records.user(turn, slots.get("assignee")) or turn.user
    due: datetime | None = None
    has_time = False
    if slots.get("due"):
        due, has_time = local(slots["due"], turn.tz)
        if (due if has_time else due.date()) < (turn.now if has_time else turn.now.date()):
            return Ask("due", say("task_past_due", due=day(due, turn.now.date())))
    contact = records.contact(turn, slots) if slots.get("contact") else None
    account = (
        records.account(turn, slots, ask=False)
        if slots.get("account")
        else (contact.account if contact else None)
    )
    deal = records.deal(turn, slots) if slots.get("deal") else None
    task = Task(
        title=title,
        due_at=due,
        due_has_time=has_time,
        assignee_id=assignee.id,
        created_by_id=turn.user.id,
        account_id=account.id if account else None,
        contact_id=contact.id if contact else None,
        deal_id=deal.id if deal else None,
    )
    turn.session.add(task)
    turn.audit.created(task, say("undo_task_created", task=title))
    turn.remember(account_id=account.id if account else None, contact_id=contact.id if contact else None)
    when = say("task_due", due=day(due if has_time else due.date(), turn.now.date())) if due else ""
    if assignee.id == turn.user.id:
        text = say("task_created_for_you", task=title, due=when)
    else:
        text = say("task_created", who=assignee.name, task=title, due=when)
    return Reply(text, buttons=undo_button())


def _overdue(task: Task, turn: Turn) -> bool:
    """Open and due before today: what a list marks, and what 'today' brings along."""
    return (
        task.status == "open"
        and task.due_at is not None
        and task.due_at.astimezone(turn.tz).date() < turn.now.date()
    )


def _task_rows(turn: Turn, tasks: list[Task], mark_overdue: bool) -> Table:
    today = turn.now.date()
    rows = []
    for task in tasks:
        due = task.due_at.astimezone(turn.tz) if task.due_at else None
        when = day(due if task.due_has_time else due.date(), today) if due else "-"
        if mark_overdue and _overdue(task, turn):
            when += say("task_overdue_mark")
        rows.append((when, task.title, task.account.name if task.account else "-"))
    return Table(("Due", "Task", "Account"), tuple(rows))


def list_tasks(turn: Turn, slots: dict[str, Any], *, overdue_too: bool = True) -> Outcome:
    """The assignee's tasks by status and period. Open tasks due in a period that takes in today come
    with the overdue ones (`overdue_too`), and every list of open tasks marks those overdue."""
    assert turn.user is not None
    assignee: User = records.user(turn, slots.get("assignee")) or turn.user
    status = slots.get("status") or "open"
    query = select(Task).where(Task.assignee_id == assignee.id, Task.deleted_at.is_(None))
    query = query.where(Task.status == ("done" if status == "done" else "open"))
    if status == "overdue":
        query = query.where(Task.due_at < turn.now)
    span = period(slots.get("period"))
    if span:
        start = datetime.combine(span[0], datetime.min.time(), turn.tz)
        end = datetime.combine(span[1] + timedelta(days=1), datetime.min.time(), turn.tz)
        column = Task.completed_at if status == "done" else Task.due_at
        if status == "open" and overdue_too and span[0] <= turn.now.date() <= span[1]:
            query = query.where(column < end)  # and everything still open from before
        else:
            query = query.where(column >= start, column < end)
    query = query.options(selectinload(Task.account)).order_by(Task.due_at.is_(None), Task.due_at)
    tasks = list(turn.session.scalars(query.limit(50)))
    label = {
        "open": say("task_status_open"),
        "overdue": say("task_status_overdue"),
        "done": say("task_status_done"),
    }[status]
    if not tasks:
        return Reply(say("no_tasks", status=label))
    mark = status == "open"
    late = sum(_overdue(t, turn) for t in tasks) if mark else 0
    overdue = say("tasks_overdue_count", n=late) if late else ""
    if assignee.id == turn.user.id:
        title = say("tasks_header_yours", status=label, n=len(tasks), overdue=overdue)
    else:
        title = say("tasks_header_theirs", name=assignee.name, status=label, n=len(tasks), overdue=overdue)
    turn.show("task", [t.id for t in tasks])
    return Reply(title, table=_task_rows(turn, tasks, mark))


def _likeness(said: str, title: str) -> float:
    return float(fuzz.token_set_ratio(said, title, processor=utils.default_process))


def complete_task(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    query = select(Task).where(Task.status == "open", Task.deleted_at.is_(None))
    if not turn.is_manager:
        query = query.where(Task.assignee_id == turn.user.id)
    if (shown := slots.get("_task_id")) is not None and (task := turn.session.get(Task, shown)) is not None:
        return _done(turn, task)  # "the second one" of the list just shown
    wanted = slots.get("task")
    exact = [t for t in turn.session.scalars(query) if wanted and t.title.casefold() == wanted.casefold()]
    if len(exact) == 1:  # the Done button of a reminder names the task exactly
        return _done(turn, exact[0])
    if slots.get("account"):
        account = records.account(turn, slots)
        query = query.where(Task.account_id == account.id)
    if slots.get("contact"):
        contact = records.contact(turn, slots)
        if contact is not None:
            query = query.where(Task.contact_id == contact.id)
    candidates = list(turn.session.scalars(query.order_by(Task.due_at)))
    if wanted:
        scored = sorted(((_likeness(wanted, t.title), t) for t in candidates), key=lambda p: -p[0])
        candidates = [t for score, t in scored if score >= 60 and score >= scored[0][0] - 5]
    if not candidates:
        return Reply(say("task_not_found", task=wanted) if wanted else say("task_not_found_unnamed"))
    if len(candidates) > 1:
        chosen = slots.get("_choice")
        match = next((t for t in candidates if t.title == chosen), None)
        if match is None:
            return Choose("_choice", "task", [t.title for t in candidates[:9]])
        candidates = [match]
    return _done(turn, candidates[0])


def _done(turn: Turn, task: Task) -> Outcome:
    if not can_change_task(turn, task):
        return Reply(say("not_your_task", owner=task.assignee.name if task.assignee else say("someone")))
    before = snapshot(task)
    task.status = "done"
    task.completed_at = turn.now
    turn.audit.updated(task, before, say("undo_task_done", task=task.title))
    return Reply(say("task_done", task=task.title), buttons=undo_button())


def _reminded(turn: Turn) -> Task | None:
    """The open task just reminded of: the conversation's, set when the reminder was delivered, else the
    user's latest one reminded in the last SNOOZE_RECENT."""
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
                Task.reminded_at >= turn.now - SNOOZE_RECENT,
            )
            .order_by(Task.reminded_at.desc(), Task.id.desc())
            .limit(1)
        ).first()
    return task


def snooze_task(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """'remind me again in an hour' / 'tomorrow': moves the task just reminded of. With none, 'remind me
    friday' is a new reminder, and asks what it should say. A new
    due time makes a new reminder occurrence; 'tomorrow' means 09:00 local, whatever the clocks did."""
    task = _reminded(turn)
    if task is None:
        return create_task(turn, slots) if slots.get("due") else Reply(say("snooze_nothing"))
    if not can_change_task(turn, task):
        return Reply(say("not_your_task", owner=task.assignee.name if task.assignee else say("someone")))
    if slots.get("due"):
        due, has_time = local(slots["due"], turn.tz)
    else:
        due, has_time = turn.now + SNOOZE, True
    if due <= turn.now:
        return Ask("due", say("task_past_due", due=day(due, turn.now.date())))
    before = snapshot(task)
    task.due_at = due
    task.due_has_time = has_time
    turn.audit.updated(task, before, say("undo_task_snoozed", task=task.title))
    turn.remember(task_id=task.id)
    return Reply(say("task_snoozed", task=task.title, due=day(due, turn.now.date())), buttons=undo_button())
