"""A customer who floods the bot is slowed down, and an over-long message is refused unread; staff are
never limited."""

from __future__ import annotations

from seeded import seed_demo

from assistant.engine import REFUSED, Assistant
from assistant.limits import BURST, MAX_MESSAGE_CHARS, RateLimiter, SharedRateLimiter
from assistant.messages import Message
from assistant.runtime import Runtime


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_a_steady_rate_per_identity() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=3, per_second=0.5, clock=clock)
    assert [limiter.allow("web", "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("web", "b")  # another identity has its own bucket
    clock.now = 1.0
    assert not limiter.allow("web", "a")  # half a message earned
    clock.now = 2.0
    assert limiter.allow("web", "a")
    assert not limiter.allow("web", "a")


def test_the_assistant_refuses_floods_and_long_messages(runtime: Runtime) -> None:
    seed_demo(runtime)
    bot = Assistant(runtime)
    bot.limiter = RateLimiter(burst=2, per_second=0.0)
    customer = [bot.handle(Message("web", "visitor-9", "hi", customer=True)) for _ in range(3)]
    assert [r.intent for r in customer][-1] == REFUSED and customer[0].intent != REFUSED
    assert "faster than I can answer" in customer[-1].plain
    staff = [
        bot.handle(
            Message("terminal", "maria.gonzalez@northwind.example", "new tickets", sender_is_email=True)
        )
        for _ in range(3)
    ]
    assert all(r.intent != REFUSED for r in staff)
    long = bot.handle(Message("terminal", "maria.gonzalez@northwind.example", "x" * (MAX_MESSAGE_CHARS + 1)))
    assert long.intent == REFUSED and "too long" in long.plain
    assert BURST >= 10  # a person typing fast is never slowed


def test_a_customer_is_counted_once_however_many_processes_answer(runtime: Runtime) -> None:
    """Two assistants on one store stand for two processes of crm serve --processes 2: a customer whose
    messages reach both is held to one bucket, not one each."""
    seed_demo(runtime)
    first, second = Assistant(runtime), Assistant(runtime)
    assert isinstance(first.limiter, SharedRateLimiter), "shared by default"
    clock = Clock()
    for bot in (first, second):
        bot.limiter = SharedRateLimiter(runtime, burst=3, per_second=0.5, clock=clock, bucket="turns")

    replies = [bot.handle(Message("telegram", "42", "hi", customer=True)) for bot in (first, second) * 2]

    assert [reply.intent == REFUSED for reply in replies] == [False, False, False, True]
    clock.now += 2.0  # the bucket earns one message back
    assert second.handle(Message("telegram", "42", "hi", customer=True)).intent != REFUSED
