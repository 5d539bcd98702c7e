"""A customer's turn around the support bot: a person when the bot cannot help, quiet while a person
handles the conversation, staff answers shown once, and a rating asked once a ticket is solved.

Chatwoot's conversation states, on our store: the bot answers (pending); a person is asked for, or
the bot failed twice in a row, and a high-priority ticket with the transcript is opened (open): the
bot says nothing more and the customer's messages go onto the ticket; staff resolve the ticket and
the bot answers again (resolved), asking once for a 1-5 rating.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from assistant.conversation import ConversationState, Pending
from assistant.messages import Button, Reply
from assistant.replies import say
from assistant.skills.support import SOLVED, hand_off, with_news
from assistant.turn import Turn
from storage.models import ChannelIdentity, Ticket, TicketMessage

HANDED_OFF = "handed_off"  # the intent of the bot's silence while a person handles the conversation
MISSES_TO_HAND_OFF = 2
RATINGS = range(1, 6)


def customer_turn(turn: Turn, text: str, bot: Callable[[], Reply]) -> Reply:
    """The customer's message: to the person handling it, or to the bot (`bot` answers it)."""
    assert turn.customer is not None
    ticket = _handled_by_a_person(turn)
    if ticket is not None:
        ticket.messages.append(TicketMessage(author="customer", body=text))
        if ticket.status == "pending":
            ticket.status = "open"  # the customer answered: the ticket is the team's turn again
        turn.state.said("customer", text)
        return with_news(turn, Reply("", intent=HANDED_OFF))
    reply = bot()
    if turn.state.handoff is None:
        turn.state.misses = turn.state.misses + 1 if unanswered(reply) else 0
        if turn.state.misses >= MISSES_TO_HAND_OFF:
            ticket = hand_off(turn, automatic=True, said=text)
            reply = Reply(say("handoff_automatic", number=ticket.number), intent="human_handoff")
    turn.state.said("customer", text)
    turn.state.said("assistant", reply.plain)
    return _rating_asked(turn, with_news(turn, reply))


def unanswered(reply: Reply) -> bool:
    """The bot could not help: it offered a person instead of an answer."""
    return any(b.value == say("button_person_value") for b in reply.buttons)


def _handled_by_a_person(turn: Turn) -> Ticket | None:
    """The ticket a person handles this conversation on; None (and the bot back) once it is solved."""
    if turn.state.handoff is None:
        return None
    ticket = turn.session.get(Ticket, turn.state.handoff)
    if ticket is None or ticket.deleted_at is not None or ticket.status in SOLVED:
        turn.state.handoff = None
        return None
    return ticket


def customers_with_news(session: Session, channel: str) -> list[str]:
    """The external ids on `channel` of customers with an unseen staff answer or an unasked rating."""
    unseen = (
        select(Ticket.customer_id)
        .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
        .where(
            Ticket.deleted_at.is_(None),
            TicketMessage.author != "customer",
            TicketMessage.deleted_at.is_(None),
            TicketMessage.seen_at.is_(None),
        )
    )
    unrated = select(Ticket.customer_id).where(
        Ticket.deleted_at.is_(None), Ticket.status.in_(SOLVED), Ticket.csat_asked_at.is_(None)
    )
    return list(
        session.scalars(
            select(ChannelIdentity.external_id)
            .where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.customer_id.in_(unseen.union(unrated)),
            )
            .order_by(ChannelIdentity.external_id)
        )
    )


def _unrated(customer_id: int) -> Select[Ticket]:
    return select(Ticket).where(
        Ticket.customer_id == customer_id,
        Ticket.deleted_at.is_(None),
        Ticket.status.in_(SOLVED),
        Ticket.csat_asked_at.is_(None),
    )


def rating_due(session: Session, customer_id: int) -> bool:
    """Whether a solved ticket of the customer's waits to be rated (a read, no lock)."""
    return session.scalars(_unrated(customer_id).limit(1)).first() is not None


def rating_question(
    session: Session, customer_id: int, state: ConversationState, now: datetime
) -> Reply | None:
    """Once per solved ticket, "How did we do on #1042? 1-5" with buttons, the answer awaited in
    `state`; None when nothing is to be rated or a question is open already."""
    if state.pending is not None or state.handoff is not None:
        return None
    solved = session.scalars(
        _unrated(customer_id)
        .order_by(Ticket.updated_at.desc())
        .with_for_update(skip_locked=True)  # a live push and a turn never both ask
    ).first()
    if solved is None:
        return None
    solved.csat_asked_at = now
    question = say("ask_rating", number=solved.number)
    state.pending = Pending("ask", "rate_ticket", {"ticket": solved.number}, "rating", question)
    return Reply(question, buttons=[Button(str(n), str(n), "choose") for n in RATINGS], intent="rate_ticket")


def _rating_asked(turn: Turn, reply: Reply) -> Reply:
    """After the answer, the rating question if one is due (and no other question was just asked)."""
    assert turn.customer is not None
    if reply.buttons:
        return reply
    asked = rating_question(turn.session, turn.customer.id, turn.state, turn.now)
    if asked is None:
        return reply
    return Reply(
        "\n".join(line for line in (reply.text, asked.text) if line),
        plain="\n".join(line for line in (reply.plain, asked.plain) if line),
        buttons=asked.buttons,
        table=reply.table,
        intent=reply.intent,
        slots=reply.slots,
    )
