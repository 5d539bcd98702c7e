"""create_account and account_summary."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sqlalchemy import func, select

from assistant import records
from assistant.messages import Reply, Table
from assistant.replies import day, money, say
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
    turn.audit.created(account, f"the account {name}")
    turn.remember(account_id=account.id)
    details = "".join(
        f", {label} {value}"
        for label, value in (("industry", account.industry), ("web site", domain))
        if value
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
    deals_text = (
        f"{len(deals)} open deal{'s' if len(deals) != 1 else ''} worth {money(total)}"
        if deals
        else "No open deals"
    )
    last_text = "none yet"
    if last is not None:
        last_text = f"{last.type} {day(last.occurred_at.astimezone(turn.tz).date(), today)}"
        if last.notes:
            last_text += f" ({last.notes})"
    text = say(
        "summary",
        account=account.name,
        industry=f"{account.industry}, " if account.industry else "",
        owner=account.owner.name if account.owner else "nobody",
        deals=deals_text,
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
    return Reply(text, table=table)
