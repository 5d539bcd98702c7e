"""The support chatbot's skills: faq, open_ticket, ticket_status, human_handoff.

A customer only ever reaches the knowledge base and their own tickets.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from assistant.messages import Button, Reply
from assistant.replies import say
from assistant.turn import Ask, Outcome, Turn
from storage.models import KbArticle, Ticket, TicketMessage

FIRST_TICKET = 1000


def offer_a_person() -> list[Button]:
    """What a customer is offered when the bot is not sure of an answer: a ticket or a person."""
    return [
        Button(say("button_ticket"), say("button_ticket_value"), "choose"),
        Button(say("button_person"), say("button_person_value"), "choose"),
    ]


def faq(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """The article's answer; with no article sure enough to answer, a refusal that offers a person."""
    article = None
    if slots.get("article"):
        article = turn.session.scalars(
            select(KbArticle).where(KbArticle.key == slots["article"], KbArticle.deleted_at.is_(None))
        ).first()
    if article is None:
        return Reply(say("faq_unknown"), buttons=offer_a_person())
    return Reply(say("faq_answer", answer=article.answer))


def _new_ticket(turn: Turn, subject: str, priority: str = "normal") -> Ticket:
    assert turn.customer is not None
    number = (turn.session.scalar(select(func.max(Ticket.number))) or FIRST_TICKET - 1) + 1
    ticket = Ticket(number=number, subject=subject[:500], priority=priority, customer_id=turn.customer.id)
    ticket.messages = [TicketMessage(author="customer", body=subject)]
    turn.session.add(ticket)
    turn.session.flush()
    return ticket


def open_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    subject = slots.get("subject")
    if not subject:
        return Ask("subject", say("ask_ticket_subject"))
    ticket = _new_ticket(turn, subject)
    return Reply(say("ticket_opened", number=ticket.number, subject=ticket.subject))


def ticket_status(turn: Turn, slots: dict[str, Any]) -> Outcome:
    assert turn.customer is not None
    number = slots.get("ticket")
    if number is None:
        return Ask("ticket", say("ask_ticket_number"))
    ticket = turn.session.scalars(
        select(Ticket).where(
            Ticket.number == int(number), Ticket.customer_id == turn.customer.id, Ticket.deleted_at.is_(None)
        )
    ).first()
    if ticket is None:
        return Reply(say("ticket_unknown", number=number))
    shown = [m for m in ticket.messages if m.deleted_at is None]  # not a staff reply taken back
    last = shown[-1] if shown else None
    for message in _unseen(turn, ticket.id):
        message.seen_at = turn.now  # its latest answer is said here: not again as news
    if last is None:
        latest = ""
    elif last.author == "customer":
        latest = say("ticket_latest_from_you", body=last.body)
    else:
        latest = say("ticket_latest_from_us", body=last.body)
    return Reply(
        say("ticket_status", number=ticket.number, subject=ticket.subject, status=ticket.status, last=latest)
    )


def _unseen(turn: Turn, ticket_id: int | None = None) -> list[TicketMessage]:
    """Staff answers on the customer's tickets they have not been shown yet, oldest first."""
    assert turn.customer is not None
    query = (
        select(TicketMessage)
        .join(Ticket)
        .where(
            Ticket.customer_id == turn.customer.id,
            Ticket.deleted_at.is_(None),
            TicketMessage.author != "customer",
            TicketMessage.deleted_at.is_(None),
            TicketMessage.seen_at.is_(None),
        )
        .order_by(TicketMessage.id)
    )
    if ticket_id is not None:
        query = query.where(Ticket.id == ticket_id)
    return list(turn.session.scalars(query))


def with_news(turn: Turn, reply: Reply) -> Reply:
    """The reply, after the staff answers that came in since the customer last talked to the bot:
    each is shown once, on whichever channel the customer comes back to."""
    news = _unseen(turn)
    if not news:
        return reply
    for message in news:
        message.seen_at = turn.now
    lines = [say("news_reply", number=m.ticket.number, body=m.body) for m in news]
    return Reply(
        "\n".join([*lines, reply.text]),
        plain="\n".join([*lines, reply.plain]),
        speech=" ".join([*lines, reply.speech]),
        buttons=reply.buttons,
        table=reply.table,
        chart=reply.chart,
        intent=reply.intent,
        slots=reply.slots,
    )


def human_handoff(turn: Turn, slots: dict[str, Any]) -> Outcome:
    ticket = _new_ticket(turn, say("handoff_subject"), priority="high")
    return Reply(say("handoff", number=ticket.number))
