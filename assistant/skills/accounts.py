"""create_account and account_summary."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sqlalchemy import func, select

from assistant import records
from assistant.messages import Reply, Table
from assistant.replies import day, money, say
from assistant.skills.naming import proper_name
from assistant.turn import Ask, Outcome, Turn, undo_button
from storage.models import Account, Activity, Task, name_key
from storage.pipeline import default_pipeline


def create_account(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    name = slots.get("account")
    if isinstance(name, dict):
        name = None
    if not name:
        return Ask("account", say("ask_new_account_name"))
    existing = records.account_by_name(turn, name)
    if existing is not None:
        turn.remember(account_id=existing.id)
        return Reply(say("account_exists", account=existing.name))
    name = proper_name(name)
    website = slots.get("website")
    domain = urlparse(website if "//" in website else f"//{website}").hostname if website else None
    account = Account(
        name=name,
        name_key=name_key(name),
        industry=slots.get("industry"),
        domain=domain,
        owner_id=turn.user.id,
    )
    turn.session.add(account)
    turn.audit.created(account, say("undo_account_created", account=name))
    turn.remember(account_id=account.id)
    details = (say("account_detail_industry", industry=account.industry) if account.industry else "") + (
        say("account_detail_website", website=domain) if domain else ""
    )
    return Reply(say("account_created", account=name, details=details), buttons=undo_button())


def account_summary(turn: Turn, slots: dict[str, Any]) -> Outcome:
    contact = records.contact(turn, slots) if slots.get("contact") and not slots.get("account") else None
    account = contact.account if contact is not None and contact.account else records.account(turn, slots)
    today = turn.now.date()
    deals = records.open_deals(turn, account.id)
    last = turn.session.scalars(
        select(Activity)
        .where(Activity.account_id == account.id, Activity.deleted_at.is_(None))
        .order_by(Activity.occurred_at.desc())
        .limit(1)
    ).first()
    open_tasks = turn.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.account_id == account.id, Task.status == "open", Task.deleted_at.is_(None))
    )
    total = sum((d.amount or 0) for d in deals)
    last_text = say("summary_no_activity")
    if last is not None:
        when = day(last.occurred_at.astimezone(turn.tz).date(), today)
        if last.notes:
            last_text = say("summary_last_activity_notes", type=last.type, when=when, notes=last.notes)
        else:
            last_text = say("summary_last_activity", type=last.type, when=when)
    text = say(
        "summary",
        account=account.name,
        industry=say("summary_industry", industry=account.industry) if account.industry else "",
        owner=account.owner.name if account.owner else say("nobody"),
        deals=say("summary_deals", count=len(deals), amount=money(total)),
        last=last_text,
        tasks=open_tasks or 0,
    )
    stages = default_pipeline()
    table = (
        Table(
            ("Deal", "Stage", "Amount", "Close"),
            tuple(
                (
                    d.name,
                    stages.stage(d.stage).label,
                    money(d.amount) if d.amount is not None else "-",
                    day(d.close_date, today),
                )
                for d in deals
            ),
            (False, False, True, False),
        )
        if deals
        else None
    )
    turn.remember(
        account_id=account.id,
        contact_id=contact.id if contact else None,
        deal_id=deals[0].id if len(deals) == 1 else None,
    )
    turn.show("deal", [d.id for d in deals])
    return Reply(text, table=table)
