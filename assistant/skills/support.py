"""The support chatbot's skills: faq, open_ticket, ticket_status, human_handoff, rate_ticket.

A customer only ever reaches the knowledge base and their own tickets. A ticket carries the
conversation that led to it, so whoever picks it up need not ask again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.messages import Button, Reply
from assistant.replies import say
from assistant.support_notices import ticket_notice
from assistant.turn import Ask, Outcome, Turn
from storage.models import Customer, KbArticle, Ticket, TicketMessage

FIRST_TICKET = 1000
SOLVED = ("resolved", "closed")


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


def _new_ticket(
    turn: Turn, subject: str, priority: str = "normal", said: str | None = None, handoff: bool = False
) -> Ticket:
    """A numbered ticket with the conversation so far, then what the customer said now (`said`, by
    default the subject); staff are told of it (`handoff`: the customer waits for a person)."""
    assert turn.customer is not None
    number = (turn.session.scalar(select(func.max(Ticket.number))) or FIRST_TICKET - 1) + 1
    ticket = Ticket(number=number, subject=subject[:500], priority=priority, customer_id=turn.customer.id)
    earlier = [
        TicketMessage(author="customer" if who == "customer" else "assistant", body=text, seen_at=turn.now)
        for who, text in turn.state.transcript
    ]
    ticket.messages = [*earlier, TicketMessage(author="customer", body=said or subject)]
    turn.session.add(ticket)
    turn.session.flush()
    ticket_notice(turn, ticket, handoff)
    return ticket


ASKS_EMAIL = ("web",)  # channels where an unknown customer may never come back to read an answer


def open_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """A ticket once the problem is said and, on the web, an e-mail address to answer at is known."""
    assert turn.customer is not None
    subject = slots.get("subject")
    if not subject:
        return Ask("subject", say("ask_ticket_subject"))
    email = str(slots["email"]).lower() if slots.get("email") else None
    if turn.channel in ASKS_EMAIL and not (turn.customer.email or email):
        return Ask("email", say("ask_ticket_email"))
    taken = bool(email) and not turn.customer.email and _someone_has(turn, str(email))
    if email and not turn.customer.email and not taken:
        turn.customer.email = email  # never another customer's: an address said is not proof of it
    ticket = _new_ticket(turn, subject)
    if taken:
        ticket.messages.append(TicketMessage(author="customer", body=say("ticket_email_given", email=email)))
    return Reply(say("ticket_opened", number=ticket.number, subject=ticket.subject))


def _someone_has(turn: Turn, email: str) -> bool:
    return turn.session.scalar(select(func.count()).where(Customer.email == email)) != 0


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
    for message in _unseen(turn.session, turn.customer.id, ticket.id):
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


def _unseen(session: Session, customer_id: int, ticket_id: int | None = None) -> list[TicketMessage]:
    """Staff answers on the customer's tickets they have not been shown yet, oldest first."""
    query = (
        select(TicketMessage)
        .join(Ticket)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.deleted_at.is_(None),
            TicketMessage.author != "customer",
            TicketMessage.deleted_at.is_(None),
            TicketMessage.seen_at.is_(None),
        )
        .order_by(TicketMessage.id)
        .with_for_update(skip_locked=True, of=TicketMessage)  # a live push and a turn never both show one
    )
    if ticket_id is not None:
        query = query.where(Ticket.id == ticket_id)
    return list(session.scalars(query))


def take_news(session: Session, customer_id: int, now: datetime) -> list[str]:
    """The staff answers the customer has not seen, as lines to show them, marked seen: each is shown
    once, live while they are connected or with their next message, on whichever channel."""
    news = _unseen(session, customer_id)
    for message in news:
        message.seen_at = now
    return [say("news_reply", number=m.ticket.number, body=m.body) for m in news]


def with_news(turn: Turn, reply: Reply) -> Reply:
    """The reply, after the staff answers that came in since the customer last talked to the bot."""
    assert turn.customer is not None
    lines = take_news(turn.session, turn.customer.id, turn.now)
    if not lines:
        return reply
    return Reply(
        "\n".join(line for line in [*lines, reply.text] if line),
        plain="\n".join(line for line in [*lines, reply.plain] if line),
        speech=" ".join(line for line in [*lines, reply.speech] if line),
        buttons=reply.buttons,
        table=reply.table,
        chart=reply.chart,
        intent=reply.intent,
        slots=reply.slots,
    )


def human_handoff(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """A person joins: a high-priority ticket with the conversation, and the bot keeps quiet on this
    conversation until staff resolve it (assistant/support_desk.py)."""
    return Reply(say("handoff", number=hand_off(turn, automatic=False).number))


def hand_off(turn: Turn, automatic: bool, said: str | None = None) -> Ticket:
    asked = [text for who, text in turn.state.transcript if who == "customer"]
    subject = said if automatic and said else (asked[-1] if asked else say("handoff_subject"))
    ticket = _new_ticket(turn, subject, priority="high", said=said, handoff=True)
    turn.state.handoff, turn.state.misses = ticket.id, 0
    return ticket


def rate_ticket(turn: Turn, slots: dict[str, Any]) -> Outcome:
    """The customer's 1-5 rating of a solved ticket of theirs (CSAT)."""
    assert turn.customer is not None
    rating = slots.get("rating")
    query = select(Ticket).where(
        Ticket.customer_id == turn.customer.id, Ticket.deleted_at.is_(None), Ticket.status.in_(SOLVED)
    )
    if slots.get("ticket") is not None:
        query = query.where(Ticket.number == int(slots["ticket"]))
    ticket = turn.session.scalars(query.order_by(Ticket.updated_at.desc())).first()
    if ticket is None:
        return Reply(say("rating_no_ticket"))
    if rating is None:
        return Ask("rating", say("ask_rating", number=ticket.number))
    ticket.csat, ticket.csat_asked_at = int(rating), ticket.csat_asked_at or turn.now
    return Reply(say("rating_thanks" if rating >= 4 else "rating_sorry", number=ticket.number, rating=rating))
