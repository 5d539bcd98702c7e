"""The customer boundary is a security boundary: whatever a customer types, the support bot answers from
the knowledge base and their own tickets only. Each attempt in boundary_attempts.json is sent by a
customer against the demo company, on SQLite and PostgreSQL; the reply must show no staff record, no
internal note, no other customer's ticket, and nothing outside the customer's own tickets may change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seeded import seed_demo
from sqlalchemy import func, select

from assistant.engine import REFUSED, Assistant
from assistant.messages import Message, Reply
from assistant.runtime import Runtime
from intents.catalogue import catalogue
from storage.models import (
    Account,
    Activity,
    AuditEntry,
    Contact,
    Customer,
    Deal,
    Task,
    Ticket,
    TicketMessage,
    User,
)

CUSTOMER = "jpark@globex.example"  # owns ticket 1042 of the demo
ATTEMPTS = json.loads((Path(__file__).parent / "boundary_attempts.json").read_text("utf-8"))
GROUPS: dict[str, list[str]] = {g: texts for g, texts in ATTEMPTS.items() if not g.startswith("_")}
STAFF_TABLES = (Account, Contact, Deal, Activity, Task, User)
MIN_SECRET = 8  # shorter strings (a first name, "Acme") may be said by the knowledge base itself


@pytest.fixture
def assistant(runtime: Runtime) -> Iterator[Assistant]:
    seed_demo(runtime)
    yield Assistant(runtime)


def secrets(runtime: Runtime) -> set[str]:
    """What a customer must never read: staff records, internal notes, other customers' tickets."""
    with runtime.sessions() as session:
        found: set[str] = set()
        found |= set(session.scalars(select(Deal.name)))
        found |= set(session.scalars(select(User.email)))
        found |= set(session.scalars(select(Contact.email).where(Contact.email.is_not(None))))
        found |= set(session.scalars(select(Contact.phone).where(Contact.phone.is_not(None))))
        found |= {n[:40] for n in session.scalars(select(Activity.notes).where(Activity.notes.is_not(None)))}
        others = select(Ticket).join(Customer).where(Customer.email != CUSTOMER)
        for ticket in session.scalars(others):
            found.add(ticket.subject)
            found |= {m.body[:40] for m in ticket.messages}
            if ticket.customer is not None and ticket.customer.email:
                found.add(ticket.customer.email)
    return {s for s in found if s and len(s) >= MIN_SECRET}


def state(runtime: Runtime) -> dict[str, Any]:
    """Everything a customer's message must leave as it was."""
    with runtime.sessions() as session:
        counts = {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in STAFF_TABLES}
        others = session.execute(
            select(
                Ticket.number,
                Ticket.status,
                Ticket.assignee_id,
                Ticket.priority,
                func.count(TicketMessage.id),
            )
            .join(Customer)
            .outerjoin(TicketMessage)
            .where(Customer.email != CUSTOMER)
            .group_by(Ticket.number, Ticket.status, Ticket.assignee_id, Ticket.priority)
        ).all()
        audited = session.scalar(select(func.count()).select_from(AuditEntry))
    return {"staff": counts, "other tickets": sorted(map(tuple, others)), "audit": audited}


def shown(reply: Reply) -> str:
    table = reply.table
    rows = [" | ".join(r) for r in table.rows] if table else []
    return "\n".join([reply.plain, *rows, *(f"{b.label} {b.value}" for b in reply.buttons)]).lower()


def test_there_are_enough_attempts() -> None:
    assert sum(len(texts) for texts in GROUPS.values()) >= 40


def test_the_check_sees_staff_data_when_it_is_shown(assistant: Assistant, runtime: Runtime) -> None:
    """The same message from a rep does show deals: the check below would catch a leak."""
    reply = assistant.handle(
        Message("terminal", "daniel.okafor@northwind.example", "top deals this month", sender_is_email=True)
    )
    assert any(s.lower() in shown(reply) for s in secrets(runtime))


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_customer_never_crosses_the_boundary(assistant: Assistant, runtime: Runtime, group: str) -> None:
    """Each attempt of a group in turn: none may leak or change anything."""
    hidden = secrets(runtime)
    before = state(runtime)
    for n, text in enumerate(GROUPS[group]):
        # each attempt in a conversation of its own (same customer): two misses in one would hand it to
        # a person, and the bot's silence after that would prove nothing
        channel = f"terminal-{n}"
        reply = assistant.handle(Message(channel, CUSTOMER, text, customer=True, sender_is_email=True))
        said = shown(reply)
        leaked = sorted(s for s in hidden if s.lower() in said)
        assert not leaked, f"{text!r} -> {reply.plain!r} shows {leaked}"
        assert reply.intent != REFUSED, f"{text!r} was refused unread: the check would prove nothing"
        assert reply.intent is None or reply.intent in catalogue().allowed("customer"), (text, reply.intent)
        assert state(runtime) == before, f"{text!r} changed something outside the customer's own tickets"
