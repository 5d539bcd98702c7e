"""create_contact, update_contact and find_contact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from assistant import records
from assistant.audit import snapshot
from assistant.messages import Reply, Table
from assistant.replies import say
from assistant.turn import Ask, Outcome, Turn, undo_button
from storage.models import Contact, name_key

FIELDS = ("email", "phone", "title")


def create_contact(turn: Turn, slots: dict[str, Any]) -> Outcome:
    name = slots.get("contact")
    if not isinstance(name, str) or not name:
        return Ask("contact", say("ask_new_contact_name"))
    account = records.account(turn, slots, ask=False) if slots.get("account") else None
    query = select(Contact).where(Contact.name_key == name_key(name), Contact.deleted_at.is_(None))
    if account is not None:
        query = query.where(Contact.account_id == account.id)
    existing = turn.session.scalars(query).first()
    at = say("contact_at", account=account.name) if account else ""
    if existing is not None:
        turn.remember(contact_id=existing.id, account_id=existing.account_id)
        return Reply(say("contact_exists", contact=existing.name, at=at))
    contact = Contact(
        name=name,
        name_key=name_key(name),
        account_id=account.id if account else None,
        **{f: slots.get(f) for f in FIELDS},
    )
    turn.session.add(contact)
    turn.audit.created(contact, say("undo_contact_created", contact=name))
    turn.remember(contact_id=contact.id, account_id=account.id if account else None)
    details = at + "".join(f", {slots[f]}" for f in FIELDS if slots.get(f))
    return Reply(say("contact_created", contact=name, details=details), buttons=undo_button())


def _contact(turn: Turn, slots: dict[str, Any]) -> Contact:
    found = records.contact(turn, slots)
    if found is None and (contact_id := turn.context.contact_id) is not None:
        found = turn.session.get(Contact, contact_id)
    if found is None:
        raise records.Missing(Ask("contact", say("ask_contact")))
    return found


def update_contact(turn: Turn, slots: dict[str, Any]) -> Outcome:
    contact = _contact(turn, slots)
    turn.remember(contact_id=contact.id, account_id=contact.account_id)
    wanted = {f: slots[f] for f in FIELDS if slots.get(f)}
    if slots.get("account"):
        account = records.account(turn, slots)
        if account.id != contact.account_id:
            wanted["account"] = account
    if not wanted:
        question = say("ask_what_contact_change", contact=contact.name)
        return Ask("phone", question, accepts=(*FIELDS, "account"))
    before = snapshot(contact)
    changes = []
    for field, value in wanted.items():
        if field == "account":
            contact.account_id = value.id
            changes.append(say("contact_change_account", account=value.name))
        else:
            setattr(contact, field, value)
            changes.append(say("contact_change_field", field=field, value=value))
    turn.audit.updated(
        contact, before, say("undo_contact_updated", changes=", ".join(changes), contact=contact.name)
    )
    return Reply(
        say("contact_updated", contact=contact.name, changes=", ".join(changes)), buttons=undo_button()
    )


def find_contact(turn: Turn, slots: dict[str, Any]) -> Outcome:
    if slots.get("contact") is None and slots.get("account") is not None:
        account = records.account(turn, slots)
        people = turn.session.scalars(
            select(Contact)
            .where(Contact.account_id == account.id, Contact.deleted_at.is_(None))
            .order_by(Contact.name)
        ).all()
        turn.remember(account_id=account.id)
        if not people:
            return Reply(say("no_contacts_at", account=account.name))
        field = slots.get("field")
        columns = ("Name", "Title", *(("Email", "Phone") if field is None else (field.capitalize(),)))
        rows = tuple(
            (
                p.name,
                p.title or "-",
                *((p.email or "-", p.phone or "-") if field is None else (getattr(p, field) or "-",)),
            )
            for p in people
        )
        return Reply(say("contacts_at", account=account.name), table=Table(columns, rows))
    contact = _contact(turn, slots)
    turn.remember(contact_id=contact.id, account_id=contact.account_id)
    field = slots.get("field")
    if field in FIELDS:
        value = getattr(contact, field)
        if not value:
            return Reply(say("contact_field_missing", contact=contact.name, field=field))
        return Reply(say("contact_field", contact=contact.name, field=field, value=value))
    details = ", ".join(v for v in (contact.email, contact.phone) if v) or say("contact_no_details")
    return Reply(
        say(
            "contact_card",
            contact=contact.name,
            title=say("contact_title", title=contact.title) if contact.title else "",
            at=say("contact_at", account=contact.account.name) if contact.account else "",
            details=details,
        )
    )
