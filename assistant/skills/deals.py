"""create_deal and update_deal: the pipeline's records, with the stage setting the probability."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from assistant import records
from assistant.audit import snapshot
from assistant.messages import Reply
from assistant.permissions import can_change_deal
from assistant.replies import day, money, say
from assistant.skills.naming import cased_account, deal_name
from assistant.turn import Ask, Outcome, Turn, undo_button
from storage.models import Account, Deal, name_key
from storage.pipeline import default_pipeline


def _set_stage(deal: Deal, stage: str, today: date) -> None:
    pipeline = default_pipeline()
    deal.stage = stage
    deal.probability = pipeline.stage(stage).probability
    deal.closed_on = None if pipeline.stage(stage).open else today


def _details(deal: Deal, today: date) -> str:
    stage = default_pipeline().stage(deal.stage)
    parts = [money(deal.amount) if deal.amount is not None else say("deal_no_amount"), stage.label.lower()]
    if deal.close_date:
        parts.append(say("deal_closing", close=day(deal.close_date, today)))
    return ", ".join(parts)


DETAILS = ("amount", "close_date", "stage")  # what an answer to "which account, how much?" may also say
# "new deal for them": the account the conversation is about, not a new account called "them"
REFERENCES = {
    f"{article}{noun}"
    for article in ("", "this ", "that ", "the same ", "same ")
    for noun in ("them", "they", "it", "one", "account", "company", "customer", "client")
} - {"one", "account", "company", "customer", "client"}


def _account_for_deal(turn: Turn, slots: dict[str, Any]) -> tuple[Account | None, bool] | Ask:
    """The account the new deal is for and whether it came from the conversation ("new deal for them":
    the reply says which); None when a new account is named. Naming none asks, whatever the
    conversation was about."""
    named = slots.get("account")
    if isinstance(named, str) and named.casefold().strip() in REFERENCES:
        if (account_id := turn.context.account_id) is not None:
            found = turn.session.get(Account, account_id)
            if found is not None and found.deleted_at is None:
                return found, True
        named = None
    if named is None:
        said = any(slots.get(k) is not None for k in DETAILS)
        question = say("ask_deal_account") if said else say("ask_deal_account_amount")
        return Ask("account", question, accepts=DETAILS)
    return None, False


def create_deal(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    found = _account_for_deal(turn, slots)
    if isinstance(found, Ask):
        return found
    account, from_context = found
    if account is None:
        slots = cased_account(slots, lambda name: records.account_by_name(turn, name))
        question = records.create_account_if_confirmed(turn, slots)
        if question is not None:
            return question
        account = records.account(turn, slots)
    if slots.get("amount") is None:
        return Ask("amount", say("ask_deal_amount", account=account.name), accepts=DETAILS[1:])
    said = slots.get("deal") if isinstance(slots.get("deal"), str) else None
    title = deal_name(account.name, said) or say("deal_default_name", account=account.name)
    taken = set(
        turn.session.scalars(
            select(Deal.name_key).where(Deal.account_id == account.id, Deal.deleted_at.is_(None))
        )
    )
    if said and name_key(title) in taken:
        return Reply(say("deal_exists", account=account.name, deal=title))
    base, n = title, 2
    while name_key(title) in taken:
        title, n = f"{base} {n}", n + 1
    today = turn.now.date()
    deal = Deal(
        name=title,
        name_key=name_key(title),
        account_id=account.id,
        amount=Decimal(str(slots["amount"])) if slots.get("amount") is not None else None,
        currency=default_pipeline().currency,
        owner_id=turn.user.id,
        close_date=date.fromisoformat(slots["close_date"][:10]) if slots.get("close_date") else None,
        created_at=turn.now,
    )
    _set_stage(deal, slots.get("stage") or default_pipeline().stages[0].key, today)
    turn.session.add(deal)
    turn.audit.created(deal, say("undo_deal_created", deal=title))
    turn.remember(account_id=account.id, deal_id=deal.id)
    text = say("deal_created", deal=title, details=_details(deal, today))
    if from_context:
        text += " " + say("deal_account_from_context", account=account.name)
    return Reply(text, buttons=undo_button())


CHANGES = ("stage", "amount", "close_date", "owner")


def update_deal(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.user is not None
    deal = records.deal(turn, slots)
    if not any(slots.get(k) is not None for k in CHANGES):
        return Ask("stage", say("ask_what_change", deal=deal.name), accepts=CHANGES[1:])
    if not can_change_deal(turn, deal):  # a refusal: the talk is not about this deal from now on
        owner = deal.owner.name if deal.owner else say("nobody")
        return Reply(say("not_your_deal", deal=deal.name, owner=owner))
    turn.remember(account_id=deal.account_id, deal_id=deal.id)
    today = turn.now.date()
    before = snapshot(deal)
    changes: list[str] = []
    if (stage := slots.get("stage")) and stage != deal.stage:
        _set_stage(deal, stage, today)
        label = default_pipeline().stage(stage).label.lower()
        changes.append(say("deal_change_stage", stage=label, probability=deal.probability))
    if slots.get("amount") is not None and Decimal(str(slots["amount"])) != deal.amount:
        deal.amount = Decimal(str(slots["amount"]))
        changes.append(say("deal_change_amount", amount=money(deal.amount)))
    if slots.get("close_date"):
        close = date.fromisoformat(slots["close_date"][:10])
        if close != deal.close_date:
            deal.close_date = close
            changes.append(say("deal_change_close", close=day(close, today)))
    if slots.get("owner") is not None:
        new_owner = records.user(turn, slots["owner"])
        if new_owner is not None and new_owner.id != deal.owner_id:
            deal.owner_id = new_owner.id
            changes.append(say("deal_change_owner", owner=new_owner.name))
    if not changes:
        return Reply(say("deal_unchanged", deal=deal.name))
    turn.audit.updated(deal, before, say("undo_deal_updated", changes=", ".join(changes), deal=deal.name))
    return Reply(say("deal_updated", deal=deal.name, changes=", ".join(changes)), buttons=undo_button())
