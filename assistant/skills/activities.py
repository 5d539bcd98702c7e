"""log_activity: a call, meeting, e-mail or note, with an optional follow-up task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from assistant import records
from assistant.audit import snapshot
from assistant.messages import Reply
from assistant.replies import day, say
from assistant.skills.naming import cased_account
from assistant.turn import Outcome, Turn, undo_button
from assistant.when import local
from storage.models import Account, Activity, Deal, Task


def activity_article(kind: str) -> str:
    """'a call', 'an e-mail'...: an activity as the replies name it."""
    return {
        "call": say("activity_call"),
        "meeting": say("activity_meeting"),
        "email": say("activity_email"),
        "note": say("activity_note"),
    }[kind]


def _touch(turn: Turn, record: Account | Deal, when: datetime) -> bool:
    """Moves the record's last activity forward by a statement of its own: a derived date, not an
    edit, so it neither bumps the record's version (a rep's pending "move it to won?" is not told
    "changed meanwhile" because a colleague logged a call) nor fails a turn on a busy account. False
    when a later activity is on the record already (a colleague's, since this turn read it): then
    nothing changed, and there is nothing to audit or undo."""
    model = type(record)
    column = model.last_activity_at
    moved = turn.session.execute(
        update(model)
        .where(model.id == record.id, column.is_(None) | (column < when))
        .values(last_activity_at=when)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        turn.session.expire(record, ["last_activity_at"])  # read again, as it is now, when next wanted
        return False
    set_committed_value(record, "last_activity_at", when)
    return True


def _deal_of(turn: Turn, account: Account) -> Deal | None:
    """The deal an activity with the account is about when none was named: its only open deal, else
    the one the conversation is about (the context keeps a deal only with its own account), else none:
    an activity is left unlinked rather than put on a guessed deal, and nobody is asked on every call."""
    deals = records.open_deals(turn, account.id)
    if len(deals) == 1:
        return deals[0]
    return next((d for d in deals if d.id == turn.context.deal_id), None)


def log_activity(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    slots = cased_account(slots, lambda name: records.account_by_name(turn, name))
    question = records.create_account_if_confirmed(turn, slots)
    if question is not None:
        return question
    contact = records.contact(turn, slots)
    if contact is None and not any(slots.get(k) for k in ("account", "contact", "deal")):
        contact = records.contact_in_context(turn)  # "log a call with her": the person just talked about
    hint = contact.account if contact is not None and slots.get("account") is None else None
    account = hint or records.account(turn, slots)
    if contact is None and slots.get("contact") is not None:
        contact = records.contact(turn, slots, account)
    deal = records.deal(turn, slots) if slots.get("deal") else _deal_of(turn, account)
    kind = slots.get("activity_type") or "note"
    when, has_time = local(slots["when"], turn.tz) if slots.get("when") else (turn.now, True)
    activity = Activity(
        type=kind,
        account_id=account.id,
        contact_id=contact.id if contact else None,
        deal_id=deal.id if deal else None,
        user_id=turn.user.id,
        channel=turn.channel,
        occurred_at=when,
        notes=slots.get("notes"),
    )
    turn.session.add(activity)
    who = say("activity_contact_at", contact=contact.name, account=account.name) if contact else account.name
    logged = say("undo_activity_logged", activity=activity_article(kind), who=who)
    turn.audit.created(activity, logged)
    for record in (account, deal):
        if record is not None and (record.last_activity_at is None or record.last_activity_at < when):
            before = snapshot(record)
            if _touch(turn, record, when):
                turn.audit.updated(record, before, logged)  # audited too, and undone with the activity
    text = say(
        "logged",
        activity=activity_article(kind),
        who=who,
        when=day(when if has_time else when.date(), turn.now.date()),
    )
    if deal is not None:
        text += " " + say("logged_deal", deal=deal.name)
    if slots.get("follow_up"):
        due, due_has_time = local(slots["follow_up"], turn.tz)
        task = Task(
            title=say("follow_up_title", who=contact.name if contact else account.name),
            due_at=due,
            due_has_time=due_has_time,
            assignee_id=turn.user.id,
            created_by_id=turn.user.id,
            account_id=account.id,
            contact_id=contact.id if contact else None,
            deal_id=deal.id if deal else None,
        )
        turn.session.add(task)
        turn.audit.created(task, say("undo_follow_up_created", due=day(due, turn.now.date())))
        text += " " + say("follow_up_created", due=day(due if due_has_time else due.date(), turn.now.date()))
    if slots.get("notes"):
        text += "\n" + say("logged_notes", notes=slots["notes"])
    turn.remember(
        account_id=account.id, contact_id=contact.id if contact else None, deal_id=deal.id if deal else None
    )
    return Reply(text, buttons=undo_button())
