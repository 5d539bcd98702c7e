"""A staff answer reaches a connected customer live (`Assistant.news`, what the web chat pushes), once:
not again with their next message."""

from __future__ import annotations

from seeded import seed_demo

from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime

CUSTOMER = "jpark@globex.example"  # owns ticket 1042 of the demo
STAFF = "tom.fischer@northwind.example"


def test_a_staff_answer_is_pushed_once(runtime: Runtime) -> None:
    seed_demo(runtime)
    bot = Assistant(runtime)
    bot.handle(Message("web", CUSTOMER, "hi", customer=True, sender_is_email=True))
    assert bot.news("web", CUSTOMER) == []
    bot.handle(Message("terminal", STAFF, "reply to 1042: the SSO fix is live", sender_is_email=True))
    pushed = bot.news("web", CUSTOMER)
    assert [r.plain for r in pushed] == ['New reply on ticket #1042: "the SSO fix is live"']
    assert bot.news("web", CUSTOMER) == []
    assert bot.history("web", CUSTOMER)[-1] == ("assistant", pushed[0].plain)  # read again after a reload
    later = bot.handle(Message("web", CUSTOMER, "thanks", customer=True, sender_is_email=True))
    assert "New reply" not in later.plain
    assert bot.news("web", "nobody@example.com") == []


def test_a_returning_visitor_sees_the_conversation_again(runtime: Runtime) -> None:
    seed_demo(runtime)
    bot = Assistant(runtime)
    bot.handle(Message("web", "visitor-1", "hi", customer=True))
    lines = bot.history("web", "visitor-1")
    assert lines[0] == ("customer", "hi") and lines[1][0] == "assistant"
    assert bot.history("web", "visitor-2") == []
    assert bot.history("terminal", STAFF) == []  # staff conversations are not replayed this way


def test_a_solved_ticket_is_rated_from_a_live_question(runtime: Runtime) -> None:
    """Staff close a ticket while the visitor is connected: "how did we do?" is pushed at once, asked
    once, and the visitor's "4" is the rating."""
    seed_demo(runtime)
    bot = Assistant(runtime)
    bot.handle(Message("web", CUSTOMER, "hi", customer=True, sender_is_email=True))
    assert bot.news("web", CUSTOMER) == []
    bot.handle(Message("terminal", STAFF, "close 1042", sender_is_email=True))
    pushed = bot.news("web", CUSTOMER)
    assert [r.plain for r in pushed] == ["Ticket #1042 is solved. How did we do, from 1 (poor) to 5 (great)?"]
    assert [b.value for b in pushed[0].buttons] == ["1", "2", "3", "4", "5"]
    assert bot.news("web", CUSTOMER) == []
    rated = bot.handle(Message("web", CUSTOMER, "4", customer=True, sender_is_email=True))
    assert "rating ticket #1042 4 out of 5" in rated.plain
    later = bot.handle(Message("web", CUSTOMER, "thanks", customer=True, sender_is_email=True))
    assert "How did we do" not in later.plain
