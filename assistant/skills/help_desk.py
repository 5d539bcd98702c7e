"""The help desk, staff side: the ticket queue, one ticket, a reply to its customer, assign and close,
and the figures a manager asks for (CSAT, tickets opened and resolved).

Any member of staff may work a ticket (as in Chatwoot or a shared Zendesk inbox): support is the team's,
not one rep's. Every change goes through the audit log, so undo takes back a reply, an assignment or a
close. A reply is kept on the ticket, where the customer reads it (`ticket_status`, their next visit).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from assistant import records
from assistant.audit import snapshot
from assistant.messages import Button, Reply, Table
from assistant.replies import day, say
from assistant.skills.support import SOLVED
from assistant.turn import Ask, Outcome, Turn, undo_button
from assistant.when import month_of, period
from storage.models import Ticket, TicketMessage

PRIORITIES = ("urgent", "high", "normal", "low")  # most pressing first
UNSOLVED = ("open", "pending")
SHOWN = 20  # tickets listed at most
THREAD = 8  # a ticket's latest messages shown


def _queue_names() -> dict[str, str]:
    return {
        "open": say("queue_open"),
        "new": say("queue_new"),
        "unassigned": say("queue_unassigned"),
        "pending": say("queue_pending"),
        "resolved": say("queue_resolved"),
    }


def _rank() -> Any:
    """Tickets most pressing first: by priority, then oldest first."""
    return case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=len(PRIORITIES))


def _queue(turn: Turn, slots: dict[str, Any]) -> Select[Any]:
    status = slots.get("status") or "open"
    query = select(Ticket).where(Ticket.deleted_at.is_(None))
    if status == "new":
        query = query.where(Ticket.status == "open", Ticket.assignee_id.is_(None))
    elif status == "unassigned":
        query = query.where(Ticket.status.in_(UNSOLVED), Ticket.assignee_id.is_(None))
    elif status == "pending":
        query = query.where(Ticket.status == "pending")
    elif status == "resolved":
        query = query.where(Ticket.status.in_(SOLVED))
    else:
        query = query.where(Ticket.status.in_(UNSOLVED))
    if slots.get("priority") in PRIORITIES:
        query = query.where(Ticket.priority == slots["priority"])
    if slots.get("assignee"):
        assignee = records.user(turn, slots["assignee"], slot="assignee")
        assert assignee is not None
        query = query.where(Ticket.assignee_id == assignee.id)
    return query


def list_tickets(turn: Turn, slots: dict[str, Any]) -> Outcome:
    query = _queue(turn, slots)
    status = _queue_names().get(slots.get("status") or "open", say("queue_open"))
    if slots.get("group_by") == "priority":
        queue = query.subquery()
        counted = select(queue.c.priority, func.count()).group_by(queue.c.priority)
        counts: dict[str, int] = {p: n for p, n in turn.session.execute(counted)}
        if not counts:
            return Reply(say("no_tickets", status=status))
        order = [p for p in PRIORITIES if p in counts] + sorted(set(counts) - set(PRIORITIES))
        table = Table(
            (say("col_priority"), say("col_tickets")),
            tuple((p, str(counts[p])) for p in order),
            (False, True),
        )
        return Reply(say("tickets_by_priority", status=status, count=sum(counts.values())), table=table)
    tickets = list(
        turn.session.scalars(
            query.options(selectinload(Ticket.customer), selectinload(Ticket.assignee))
            .order_by(_rank(), Ticket.created_at, Ticket.number)
            .limit(SHOWN + 1)
        )
    )
    if not tickets:
        return Reply(say("no_tickets", status=status))
    today = turn.now.date()
    rows = tuple(
        (
            f"#{t.number}",
            t.priority,
            t.subject,
            _customer(t),
            t.status,
            t.assignee.name if t.assignee else say("nobody"),
            day(t.created_at.astimezone(turn.tz), today),
        )
        for t in tickets[:SHOWN]
    )
    columns = (
        say("col_ticket"),
        say("col_priority"),
        say("col_subject"),
        say("col_customer"),
        say("col_status"),
        say("col_assignee"),
        say("col_opened"),
    )
    more = say("tickets_more", n=SHOWN) if len(tickets) > SHOWN else ""
    return Reply(say("tickets_header", count=len(rows), status=status, more=more), table=Table(columns, rows))


def _customer(ticket: Ticket) -> str:
    customer = ticket.customer
    return (customer.name or customer.email or "") if customer is not None else ""


def _ticket(turn: Turn, slots: dict[str, Any]) -> Ticket | Outcome:
    number = slots.get("ticket")
    if number is None:
        return Ask("ticket", say("ask_staff_ticket_number"))
    ticket = turn.session.scalars(
        select(Ticket)
        .where(Ticket.number == int(number), Ticket.deleted_at.is_(None))
        .options(selectinload(Ticket.customer), selectinload(Ticket.assignee), selectinload(Ticket.messages))
    ).first()
    return ticket if ticket is not None else Reply(say("staff_ticket_unknown", number=number))


def _author(message: TicketMessage) -> str:
    if message.author == "customer":
        return say("author_customer")
    if message.author_user is not None:
        return message.author_user.name
    return say("author_assistant") if message.author == "assistant" else say("author_staff")


def show_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    ticket = _ticket(turn, slots)
    if not isinstance(ticket, Ticket):
        return ticket
    customer = ticket.customer
    who = _customer(ticket) or say("author_customer")
    email = f" <{customer.email}>" if customer is not None and customer.email and customer.name else ""
    thread = [m for m in ticket.messages if m.deleted_at is None]
    lines = [f"*{_author(m)}*: {m.body}" for m in thread[-THREAD:]]
    earlier = say("thread_earlier", n=len(thread) - THREAD) if len(thread) > THREAD else ""
    text = say(
        "ticket_card",
        number=ticket.number,
        subject=ticket.subject,
        customer=f"{who}{email}",
        status=ticket.status,
        priority=ticket.priority,
        assignee=ticket.assignee.name if ticket.assignee else say("nobody"),
        opened=day(ticket.created_at.astimezone(turn.tz), turn.now.date()),
        thread="\n".join(([earlier] if earlier else []) + lines),
    )
    buttons = (
        [] if ticket.status in SOLVED else [Button(say("button_close"), f"close {ticket.number}", "choose")]
    )
    return Reply(text, buttons=buttons)


def reply_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    ticket = _ticket(turn, slots)
    if not isinstance(ticket, Ticket):
        return ticket
    body = (slots.get("message") or "").strip()
    if not body:
        return Ask("message", say("ask_ticket_reply", number=ticket.number))
    assert turn.user is not None
    message = TicketMessage(author="staff", author_user_id=turn.user.id, body=body)
    ticket.messages.append(message)
    turn.audit.created(message, say("undo_ticket_reply", number=ticket.number))
    before = snapshot(ticket)
    ticket.status = "pending"  # waiting on the customer now
    if ticket.assignee_id is None:
        ticket.assignee_id = turn.user.id  # who answers first takes it
    turn.audit.updated(ticket, before, say("undo_ticket_reply", number=ticket.number))
    return Reply(say("ticket_replied", number=ticket.number, body=body), buttons=undo_button())


def close_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    ticket = _ticket(turn, slots)
    if not isinstance(ticket, Ticket):
        return ticket
    if ticket.status in SOLVED:
        return Reply(say("ticket_already_closed", number=ticket.number, status=ticket.status))
    before = snapshot(ticket)
    ticket.status = "resolved"
    turn.audit.updated(ticket, before, say("undo_ticket_closed", number=ticket.number))
    return Reply(say("ticket_closed", number=ticket.number, subject=ticket.subject), buttons=undo_button())


def assign_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    ticket = _ticket(turn, slots)
    if not isinstance(ticket, Ticket):
        return ticket
    assignee = records.user(turn, slots.get("assignee") or "me", slot="assignee")
    assert assignee is not None
    if ticket.assignee_id == assignee.id:
        return Reply(say("ticket_already_assigned", number=ticket.number, assignee=assignee.name))
    before = snapshot(ticket)
    ticket.assignee_id = assignee.id
    turn.audit.updated(ticket, before, say("undo_ticket_assigned", number=ticket.number))
    who = say("you") if assignee.id == (turn.user.id if turn.user else None) else assignee.name
    return Reply(say("ticket_assigned", number=ticket.number, assignee=who), buttons=undo_button())


def support_report(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """CSAT (the mean 1-5 rating, and the share of 4s and 5s) or tickets opened or resolved, in a period
    (this month unless one is said)."""
    span = period(slots.get("period")) or month_of(turn.now.date())
    start = datetime.combine(span[0], datetime.min.time(), turn.tz)
    end = datetime.combine(span[1] + timedelta(days=1), datetime.min.time(), turn.tz)
    when = say("report_between", start=day(span[0], turn.now.date()), end=day(span[1], turn.now.date()))
    live = Ticket.deleted_at.is_(None)
    metric = slots.get("metric") or "csat"
    if metric == "opened":
        n = turn.session.scalar(
            select(func.count()).where(live, Ticket.created_at >= start, Ticket.created_at < end)
        )
        return Reply(say("report_opened", count=n or 0, when=when))
    if metric == "resolved":
        n = turn.session.scalar(
            select(func.count()).where(
                live, Ticket.status.in_(SOLVED), Ticket.updated_at >= start, Ticket.updated_at < end
            )
        )
        return Reply(say("report_resolved", count=n or 0, when=when))
    ratings = list(
        turn.session.scalars(
            select(Ticket.csat).where(
                live, Ticket.csat.is_not(None), Ticket.csat_asked_at >= start, Ticket.csat_asked_at < end
            )
        )
    )
    if not ratings:
        return Reply(say("report_no_ratings", when=when))
    mean = sum(r for r in ratings if r is not None) / len(ratings)
    happy = sum(1 for r in ratings if r is not None and r >= 4) / len(ratings)
    return Reply(say("report_csat", mean=f"{mean:.1f}", count=len(ratings), happy=f"{happy:.0%}", when=when))
