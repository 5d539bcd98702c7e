"""Staff link a chat to themselves with a one-time code (`crm users link-code EMAIL`, then `/link CODE`).

- a code works once, for 15 minutes, for the live member of staff it was issued to, in any case and
  with or without its dash; only its hash is stored;
- an unknown, used or expired code changes nothing; a chat of another live colleague is not taken over;
  a customer's chat is re-pointed to the member of staff;
- after 5 wrong codes a sender is refused, even with the right code, until the window has passed;
- a polling channel's cursor only moves forward, also with two processes racing on PostgreSQL;
- voice replies are on by default and can be turned off per chat identity.
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adapters.cli.main import main
from assistant import cursors, linking, preferences
from assistant.linking import Guesses, LinkError, issue_code, redeem
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import AuditEntry, ChannelIdentity, Customer, LinkCode, User
from tests.conftest import NOW

CHAT = "4242"  # the rep's Telegram chat id


@pytest.fixture(autouse=True)
def fresh_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no wrong guesses counted in this process."""
    monkeypatch.setattr(linking, "GUESSES", Guesses())


def staff(runtime: Runtime, name: str = "Dana Rep", email: str = "dana@example.test") -> int:
    with transaction(runtime.sessions) as session:
        user = User(name=name, email=email, role="rep")
        session.add(user)
        session.flush()
        return user.id


def owner(runtime: Runtime, external_id: str = CHAT) -> tuple[int | None, int | None] | None:
    """(user_id, customer_id) of the Telegram identity, or None when there is none."""
    with runtime.sessions() as session:
        row = session.execute(
            select(ChannelIdentity.user_id, ChannelIdentity.customer_id).where(
                ChannelIdentity.channel == "telegram", ChannelIdentity.external_id == external_id
            )
        ).one_or_none()
    return None if row is None else (row[0], row[1])


def snapshot(runtime: Runtime) -> tuple[object, ...]:
    """Everything a redemption may change."""
    with runtime.sessions() as session:
        return (
            session.execute(
                select(
                    ChannelIdentity.channel,
                    ChannelIdentity.external_id,
                    ChannelIdentity.user_id,
                    ChannelIdentity.customer_id,
                ).order_by(ChannelIdentity.id)
            ).all(),
            session.execute(select(LinkCode.used_at, LinkCode.used_by).order_by(LinkCode.id)).all(),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def test_a_code_links_the_chat_once_and_only_its_hash_is_kept(runtime: Runtime) -> None:
    dana = staff(runtime)
    code = issue_code(runtime, "DANA@example.test", now=NOW)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
    with runtime.sessions() as session:
        stored = session.scalars(select(LinkCode)).one()
    assert stored.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert stored.expires_at == NOW + timedelta(minutes=15)

    typed = " ".join(code.replace("-", "").lower())  # lower case, spaced, no dash
    reply = redeem(runtime, "telegram", CHAT, typed, now=NOW + timedelta(minutes=1))
    assert "Dana Rep" in reply.text and "dana@example.test" in reply.text
    assert owner(runtime) == (dana, None)
    with runtime.sessions() as session:
        audit = session.scalars(select(AuditEntry)).one()
        used = session.scalars(select(LinkCode)).one()
    assert (audit.entity, audit.action, audit.user_id, audit.channel) == (
        "channel_identities",
        "link",
        dana,
        "telegram",
    )
    assert used.used_by == CHAT and used.used_at == NOW + timedelta(minutes=1)

    before = snapshot(runtime)
    again = redeem(runtime, "telegram", "9999", code, now=NOW + timedelta(minutes=2))
    assert "used already" in again.text
    assert snapshot(runtime) == before and owner(runtime, "9999") is None


def test_an_unknown_email_gets_no_code(runtime: Runtime) -> None:
    staff(runtime)
    with pytest.raises(LinkError, match=r"nobody@example\.test"):
        issue_code(runtime, "nobody@example.test", now=NOW)


def test_a_departed_colleague_gets_no_code(runtime: Runtime) -> None:
    gone = staff(runtime)
    with transaction(runtime.sessions) as session:
        session.get_one(User, gone).deleted_at = NOW
    with pytest.raises(LinkError):
        issue_code(runtime, "dana@example.test", now=NOW)


@pytest.mark.parametrize(
    ("code", "after", "says"),
    [
        ("WRONG", timedelta(minutes=1), "isn't one I know"),  # malformed
        ("ZZZZ-ZZZZ", timedelta(minutes=1), "isn't one I know"),  # well formed, never issued
        (None, timedelta(minutes=15), "expired"),  # the issued code, at its expiry
        (None, timedelta(hours=3), "expired"),
    ],
)
def test_unknown_and_expired_codes_change_nothing(
    runtime: Runtime, code: str | None, after: timedelta, says: str
) -> None:
    staff(runtime)
    issued = issue_code(runtime, "dana@example.test", now=NOW)
    before = snapshot(runtime)
    reply = redeem(runtime, "telegram", CHAT, code or issued, now=NOW + after)
    assert says in reply.text
    assert snapshot(runtime) == before and owner(runtime) is None


def test_a_new_code_retires_the_unused_one(runtime: Runtime) -> None:
    staff(runtime)
    first = issue_code(runtime, "dana@example.test", now=NOW)
    second = issue_code(runtime, "dana@example.test", now=NOW + timedelta(minutes=1))
    assert first != second
    assert "expired" in redeem(runtime, "telegram", CHAT, first, now=NOW + timedelta(minutes=2)).text
    assert "Linked" in redeem(runtime, "telegram", CHAT, second, now=NOW + timedelta(minutes=2)).text


def test_a_code_for_one_channel_does_not_work_on_another(runtime: Runtime) -> None:
    staff(runtime)
    code = issue_code(runtime, "dana@example.test", now=NOW, channel="slack")
    assert "isn't one I know" in redeem(runtime, "telegram", CHAT, code, now=NOW).text
    assert owner(runtime) is None


def test_a_customer_chat_is_repointed_to_the_member_of_staff(runtime: Runtime) -> None:
    dana = staff(runtime)
    with transaction(runtime.sessions) as session:
        customer = Customer(name="Dana before she joined")
        session.add(customer)
        session.flush()
        session.add(ChannelIdentity(channel="telegram", external_id=CHAT, customer_id=customer.id))
    code = issue_code(runtime, "dana@example.test", now=NOW)
    assert "Linked" in redeem(runtime, "telegram", CHAT, code, now=NOW).text
    assert owner(runtime) == (dana, None)
    with runtime.sessions() as session:
        audit = session.scalars(select(AuditEntry)).one()
    assert audit.before is not None and audit.before["customer_id"] is not None


def test_a_colleagues_chat_is_not_taken_over(runtime: Runtime) -> None:
    dana = staff(runtime)
    sam = staff(runtime, "Sam Rep", "sam@example.test")
    with transaction(runtime.sessions) as session:
        session.add(ChannelIdentity(channel="telegram", external_id=CHAT, user_id=sam))
    code = issue_code(runtime, "dana@example.test", now=NOW)
    before = snapshot(runtime)
    assert "another member of staff" in redeem(runtime, "telegram", CHAT, code, now=NOW).text
    assert snapshot(runtime) == before and owner(runtime) == (sam, None)
    # the code was not spent: the chat Dana really uses still links
    assert "Linked" in redeem(runtime, "telegram", "5555", code, now=NOW).text
    assert owner(runtime, "5555") == (dana, None)


def test_the_sixth_wrong_guess_is_refused_even_with_the_right_code(runtime: Runtime) -> None:
    dana = staff(runtime)
    guesses = Guesses()
    for minute in range(5):
        wrong = redeem(
            runtime, "telegram", CHAT, "ZZZZ-ZZZZ", now=NOW + timedelta(minutes=minute), guesses=guesses
        )
        assert "isn't one I know" in wrong.text
    code = issue_code(runtime, "dana@example.test", now=NOW + timedelta(minutes=5))
    refused = redeem(runtime, "telegram", CHAT, code, now=NOW + timedelta(minutes=5), guesses=guesses)
    assert "try again in 10 minutes" in refused.text
    assert owner(runtime) is None
    # another sender is not held back by this one's guesses
    other = redeem(runtime, "telegram", "7777", "ZZZZ-ZZZZ", now=NOW + timedelta(minutes=5), guesses=guesses)
    assert "isn't one I know" in other.text
    # once the first wrong guess is 15 minutes old, one more try is allowed
    later = NOW + timedelta(minutes=15)
    assert "Linked" in redeem(runtime, "telegram", CHAT, code, now=later, guesses=guesses).text
    assert owner(runtime) == (dana, None)


def test_a_channel_bounds_the_guesses_of_all_its_senders() -> None:
    guesses = Guesses(per_sender=5, per_channel=20)
    for sender in range(20):
        assert guesses.retry_at("telegram", str(sender), NOW) is None
        guesses.failed("telegram", str(sender), NOW)
    assert guesses.retry_at("telegram", "fresh", NOW) == NOW + linking.GUESS_WINDOW
    assert guesses.retry_at("slack", "fresh", NOW) is None
    assert guesses.retry_at("telegram", "fresh", NOW + linking.GUESS_WINDOW) is None


def test_guesses_are_counted_safely_from_many_threads() -> None:
    guesses = Guesses(per_sender=800, per_channel=100_000)

    def guess() -> None:
        for _ in range(100):
            guesses.failed("telegram", "x", NOW)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert guesses.retry_at("telegram", "x", NOW) == NOW + linking.GUESS_WINDOW
    guesses.per_sender = 801  # exactly 800 were counted: none lost to a race
    assert guesses.retry_at("telegram", "x", NOW) is None


def test_the_cursor_only_moves_forward(runtime: Runtime) -> None:
    name = "telegram:123456"
    assert cursors.last_handled(runtime, name) is None
    cursors.advance(runtime, name, 10)
    assert cursors.last_handled(runtime, name) == 10
    cursors.advance(runtime, name, 7)
    cursors.advance(runtime, name, 10)
    assert cursors.last_handled(runtime, name) == 10
    cursors.advance(runtime, name, 2**40)  # Telegram update ids outgrow 32 bits
    assert cursors.last_handled(runtime, name) == 2**40
    assert cursors.last_handled(runtime, "telegram:other") is None


def test_the_cursor_follows_a_platform_that_numbers_afresh(runtime: Runtime) -> None:
    name = "telegram:renumbered"
    cursors.restart(runtime, name, 40)  # no cursor yet: one is made
    assert cursors.last_handled(runtime, name) == 40
    cursors.advance(runtime, name, 9_000_000)
    cursors.restart(runtime, name, 1_234)
    assert cursors.last_handled(runtime, name) == 1_234
    cursors.advance(runtime, name, 1_235)
    assert cursors.last_handled(runtime, name) == 1_235


def test_racing_processes_leave_the_cursor_at_the_largest_value(runtime: Runtime) -> None:
    name = "telegram:race"
    values = list(range(1, 201))
    errors: list[BaseException] = []

    def worker(mine: list[int]) -> None:
        try:
            for value in mine:
                cursors.advance(runtime, name, value)
        except BaseException as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(values[i::2][:: 1 if i else -1],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cursors.last_handled(runtime, name) == 200


def test_voice_replies_are_on_by_default_and_kept_per_chat(runtime: Runtime) -> None:
    dana = staff(runtime)
    with transaction(runtime.sessions) as session:
        session.add(ChannelIdentity(channel="telegram", external_id=CHAT, user_id=dana))
    assert preferences.voice_replies(runtime, "telegram", CHAT) is True
    assert preferences.set_voice_replies(runtime, "telegram", CHAT, False) is True
    assert preferences.voice_replies(runtime, "telegram", CHAT) is False
    assert preferences.set_voice_replies(runtime, "telegram", CHAT, True) is True
    assert preferences.voice_replies(runtime, "telegram", CHAT) is True
    assert preferences.set_voice_replies(runtime, "telegram", "nobody", False) is False
    assert preferences.voice_replies(runtime, "telegram", "nobody") is True


def crm(database_url: str, *args: str) -> int:
    return main(["--db", database_url, "--tz", "UTC", "--now", "2026-11-23T09:00", *args])


def test_the_cli_prints_a_code_that_links(
    runtime: Runtime, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dana = staff(runtime)
    assert crm(database_url, "users", "link-code", "Dana@Example.test") == 0
    out = capsys.readouterr().out
    code = re.search(r"/link (\S+) to the bot within 15 minutes", out)
    assert code is not None and "until 2026-11-23 09:15" in out
    assert "Linked" in redeem(runtime, "telegram", CHAT, code.group(1), now=NOW).text
    assert owner(runtime) == (dana, None)


def test_the_cli_refuses_an_unknown_email(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert crm(database_url, "users", "link-code", "nobody@example.test") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nobody@example.test" in captured.err and len(captured.err.strip().splitlines()) == 1


def test_two_chats_racing_with_one_code_link_one(runtime: Runtime) -> None:
    """The code's row is locked while it is checked and spent, so a code works once even then."""
    staff(runtime)
    code = issue_code(runtime, "dana@example.test", now=NOW)
    barrier = threading.Barrier(4)
    replies: list[str] = []

    def link(chat: str) -> None:
        barrier.wait()
        replies.append(redeem(runtime, "telegram", chat, code, now=NOW).text)

    threads = [threading.Thread(target=link, args=(f"chat-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum("Linked" in text for text in replies) == 1
    assert sum("used already" in text for text in replies) == 3
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ChannelIdentity)) == 1
