"""Updates in order within a chat, side by side across chats, and the cursor a restart resumes after."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram.lanes import RENUMBERED, Lanes


def test_a_chats_updates_run_in_order_while_other_chats_go_ahead() -> None:
    async def scenario() -> tuple[list[str], int]:
        lanes = Lanes()
        done: list[str] = []
        gate = asyncio.Event()

        def work(name: str, wait: bool = False):  # type: ignore[no-untyped-def]
            async def run() -> None:
                if wait:
                    await gate.wait()
                done.append(name)

            return run

        await lanes.submit(1, 1, work("chat1-a", wait=True))  # a slow turn
        await lanes.submit(1, 2, work("chat1-b"))
        await lanes.submit(2, 3, work("chat2-a"))
        await asyncio.sleep(0.01)
        assert done == ["chat2-a"] and lanes.done_through == 0  # update 1 is not done: nothing below 3
        gate.set()
        await lanes.drain()
        return done, lanes.done_through

    done, through = asyncio.run(scenario())
    assert done == ["chat2-a", "chat1-a", "chat1-b"]
    assert through == 3


def test_a_failed_update_is_logged_and_does_not_stop_its_chat(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[int]:
        lanes = Lanes()
        done: list[int] = []

        async def fails() -> None:
            raise RuntimeError("the turn failed")

        async def works() -> None:
            done.append(2)

        await lanes.submit(7, 1, fails)
        await lanes.submit(7, 2, works)
        await lanes.drain()
        return done

    assert asyncio.run(scenario()) == [2]
    assert "update 1 failed" in caplog.text


def test_what_was_handled_before_a_restart_is_seen_and_skipped_updates_count_as_done() -> None:
    lanes = Lanes(after=500)
    assert lanes.seen(500) and lanes.seen(420) and not lanes.seen(501)
    lanes.skip(501)  # a group message not for the bot
    assert lanes.done_through == 501


def test_updates_numbered_afresh_far_below_the_cursor_are_new() -> None:
    lanes = Lanes(after=5_000_000)
    fresh = 5_000_000 - RENUMBERED - 1
    assert not lanes.seen(fresh)
    assert lanes.renumbered(fresh) and lanes.done_through == fresh - 1
    assert not lanes.seen(fresh) and not lanes.renumbered(fresh + 1)


def test_an_older_update_arriving_late_is_still_new() -> None:
    async def scenario() -> bool:
        lanes = Lanes()

        async def nothing() -> None:
            return None

        await lanes.submit(1, 10, nothing)
        await lanes.drain()
        return lanes.seen(10) and not lanes.seen(9)  # a webhook retry of update 9 comes after 10

    assert asyncio.run(scenario())
