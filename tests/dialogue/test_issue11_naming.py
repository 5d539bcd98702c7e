"""Issue 11: new accounts and deals keep the user's casing when it has capitals, else title case; a new
deal is named after its account and what was said about it. The parser gives no words for a new deal
yet, so the deal's words come here from a parse made by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seeded import seed_demo
from sqlalchemy import select

from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime
from assistant.skills.naming import deal_name, proper_name
from intents.parse import Parse
from storage.models import Account, Deal

REP = "daniel.okafor@northwind.example"


@pytest.mark.parametrize(
    "said,name",
    [
        ("zephyr robotics", "Zephyr Robotics"),
        ("Zephyr robotics", "Zephyr robotics"),  # a capital: the user's own casing
        ("iRobot labs", "iRobot labs"),
        ("bank of the west", "Bank of the West"),
        ("zephyr  robotics gmbh", "Zephyr Robotics GmbH"),
        ("o'brien & sons", "O'brien & Sons"),
    ],
)
def test_a_new_name_keeps_capitals_else_is_title_cased(said: str, name: str) -> None:
    assert proper_name(said) == name


def test_a_new_deal_is_named_by_its_account_and_the_words_said() -> None:
    assert deal_name("Zephyr Robotics", "50 seats") == "Zephyr Robotics - 50 seats"
    assert deal_name("Zephyr Robotics", "zephyr robotics renewal") == "Zephyr Robotics renewal"
    assert deal_name("Zephyr Robotics", None) is None
    assert deal_name("Zephyr Robotics", "  ") is None


@pytest.fixture
def bot(runtime: Runtime) -> Iterator[Assistant]:
    seed_demo(runtime)
    yield Assistant(runtime)


def test_a_new_deal_with_words_is_named_account_dash_words(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bot.policy.parser.parse
    slots = {"account": "zephyr robotics", "amount": 40000, "deal": "50 seats"}

    said = "new deal for zephyr robotics, 50 seats, 40k"

    def parse(text: str, *args: object, **kwargs: object) -> Parse:
        if text == said:
            return Parse(text, "create_deal", 0.99, dict(slots))
        return real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.policy.parser, "parse", parse)

    def say(text: str) -> str:
        return bot.handle(Message("terminal", REP, text, sender_is_email=True)).plain

    assert "I don't know an account called Zephyr Robotics" in say(said)
    assert "Created the deal Zephyr Robotics - 50 seats: $40,000" in say("yes")
    with runtime.sessions() as session:
        account = session.scalars(select(Account).where(Account.name == "Zephyr Robotics")).one()
        deal = session.scalars(select(Deal).where(Deal.account_id == account.id)).one()
        assert deal.name == "Zephyr Robotics - 50 seats"
