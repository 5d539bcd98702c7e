"""Staff hear of a new ticket where they work, with the conversation and buttons to act on it.

A notice is an outbox row on the logical channel `support`: whichever platform is configured with a
support room registers a channel of that name and delivers it there (Slack: `CRM_SLACK_SUPPORT_CHANNEL`).
With no support room configured the rows wait unclaimed, and staff still find every ticket with
"new tickets". The outbox key names the ticket and the event, so a notice is sent once.
"""

from __future__ import annotations

from assistant.messages import Button, Reply
from assistant.outbox import Item, enqueue
from assistant.replies import say
from assistant.turn import Turn
from storage.models import Ticket

SUPPORT_CHANNEL = "support"
NOTICE_LINES = 10  # of the conversation, the latest


def ticket_notice(turn: Turn, ticket: Ticket, handoff: bool) -> None:
    """Queues the notice of a ticket just opened, or of a customer waiting for a person (`handoff`)."""
    customer = ticket.customer or turn.customer
    who = (customer.name or customer.email) if customer is not None else None
    thread = [
        f"*{say('author_customer') if m.author == 'customer' else say('author_assistant')}*: {m.body}"
        for m in ticket.messages[-NOTICE_LINES:]
    ]
    head = say(
        "notice_handoff" if handoff else "notice_ticket",
        number=ticket.number,
        priority=ticket.priority,
        customer=who or say("author_customer"),
        subject=ticket.subject,
    )
    buttons = [
        Button(say("button_show_ticket"), f"show ticket {ticket.number}", "choose"),
        Button(say("button_take_ticket"), f"assign ticket {ticket.number} to me", "choose"),
    ]
    event = "handoff" if handoff else "opened"
    item = Item(
        key=f"ticket:{ticket.number}:{event}",
        kind="ticket",
        user_id=None,
        channel=SUPPORT_CHANNEL,
        recipient="",
        reply=Reply("\n".join([head, *thread]), buttons=buttons),
        due=turn.now,
    )
    enqueue(turn.session, [item])
