"""What is due and what it says: task reminders with done/snooze buttons, digests at 08:30 local,
stale-deal alerts once per N days, across daylight-saving changes, each delivered once."""

from __future__ import annotations

import argparse
import io
import threading
import time as clock
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from reminder_world import World, zoned
from sqlalchemy import func, select

from adapters.cli import reminder_commands
from adapters.cli.common import common_options
from assistant.audit import Recorder
from assistant.channels import default_registry, take_inbox
from assistant.conversation import Context, ConversationState
from assistant.reminders import Schedule, enqueue_due, run_scheduler
from assistant.runtime import Runtime
from assistant.skills.tasks import snooze_task
from assistant.turn import Turn
from assistant.undone import undo_group
from assistant.when import local
from storage.db import transaction
from storage.models import AuditEntry, Conversation, Deal, OutboxMessage, Task, User

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def texts(world: World, now: datetime, schedule: Schedule = TASKS_ONLY) -> list[str]:
    return [s.text for s in world.run(now, schedule)]


def outbox(world: World, key: str) -> OutboxMessage:
    with world.runtime.sessions() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


# --- task reminders -------------------------------------------------------------------------------------


def test_a_due_task_reminds_its_assignee_once_with_done_and_snooze(world: World) -> None:
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    call = world.task("Call Jane about pricing", dana, NOW - timedelta(hours=1), acme)
    world.task("Send the contract", dana, NOW + timedelta(hours=2))
    done = world.task("Already done", dana, NOW - timedelta(hours=3))
    with transaction(world.runtime.sessions) as session:
        session.get(Task, done).status = "done"  # type: ignore[union-attr]

    sent = world.run(NOW, TASKS_ONLY)
    assert [(s.channel, s.recipient, s.text) for s in sent] == [
        ("recording", "dana.rep@example.test", "Reminder: Call Jane about pricing (Acme), due today 08:00.")
    ]
    row = outbox(world, f"task:{call}:2026-11-23T08:00:00+00:00")
    buttons = [(b["kind"], b["value"]) for b in row.payload["reply"]["buttons"]]
    assert buttons == [
        ("done", "mark the task Call Jane about pricing as done"),
        ("snooze", "remind me again in an hour"),
        ("snooze", "remind me again tomorrow"),
    ]
    with world.runtime.sessions() as session:
        assert session.get(Task, call).reminded_at == NOW  # type: ignore[union-attr]
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == "dana.rep@example.test")
        ).one()
        assert conversation.state["context"]["task_id"] == call  # for "remind me again in an hour"

    assert world.run(NOW, TASKS_ONLY) == []  # the same moment again: nothing new
    assert texts(world, NOW + timedelta(hours=2)) == ["Reminder: Send the contract, due today 11:00."]
    assert set(world.delivered_keys().values()) == {1}


def test_running_twice_at_the_same_now_delivers_nothing_new(world: World) -> None:
    dana = world.user("Dana Rep")
    world.user("Maria Boss", role="manager")
    acme = world.account("Acme", dana)
    world.task("Call Jane", dana, NOW - timedelta(minutes=5), acme)
    world.deal("Acme Platform", acme, dana, last_activity=NOW - timedelta(days=30))
    first = world.run(NOW, Schedule())
    assert sorted(s.key.split(":")[0] for s in first) == ["digest", "stale", "task", "weekly"]
    with world.runtime.sessions() as session:
        count = session.scalar(select(func.count()).select_from(OutboxMessage))
    due = enqueue_due(world.runtime, NOW, Schedule(), world.channels)
    assert due.enqueued == 0 and world.run(NOW, Schedule()) == []
    with world.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == count


def test_a_09_00_reminder_stays_09_00_local_across_the_spring_change(world: World) -> None:
    """Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 28 March 2027."""
    berlin = ZoneInfo("Europe/Berlin")
    rt = zoned(world.runtime, "Europe/Berlin", at("2027-03-25T12:00:00+01:00"))
    berlin_world = World(rt, world.channels)
    ana = berlin_world.user("Ana Rep", timezone="Europe/Berlin")
    friday, _ = local("2027-03-26", berlin)  # what "remind me Friday" stores: 09:00 on that day
    monday, _ = local("2027-03-29", berlin)
    world.task("Before the change", ana, friday, has_time=False)
    world.task("After the change", ana, monday, has_time=False)

    assert texts(berlin_world, at("2027-03-26T07:59:59+00:00")) == []
    assert texts(berlin_world, at("2027-03-26T08:00:00+00:00")) == [
        "Reminder: Before the change, due today 09:00."
    ]
    assert texts(berlin_world, at("2027-03-29T06:59:59+00:00")) == []
    assert texts(berlin_world, at("2027-03-29T07:00:00+00:00")) == [
        "Reminder: After the change, due today 09:00."
    ]
    rt.close()


def snooze(runtime: Runtime, user_id: int, now: datetime, slots: dict[str, str], task_id: int) -> str:
    """The snooze skill as the dialogue would run it, in the conversation the reminder went to."""
    with transaction(runtime.sessions) as session:
        user = session.get(User, user_id)
        state = ConversationState(context=Context(task_id=task_id))
        turn = Turn(
            session, user, None, "recording", now, runtime.tz, state, Recorder(session, user_id, "recording")
        )
        return snooze_task(turn, slots).plain  # type: ignore[union-attr]


def test_snoozing_to_tomorrow_means_09_00_local_after_the_autumn_change(world: World) -> None:
    """America/New_York moves from UTC-4 to UTC-5 on Sunday 1 November 2026."""
    saturday = at("2026-10-31T10:00:00-04:00")
    rt = zoned(world.runtime, "America/New_York", saturday)
    ny = World(rt, world.channels)
    sam = ny.user("Sam Rep", timezone="America/New_York")
    task = ny.task("Call the board", sam, at("2026-10-31T09:00:00-04:00"))
    assert texts(ny, saturday) == ["Reminder: Call the board, due today 09:00."]

    assert (
        snooze(rt, sam, saturday, {"due": "2026-11-01"}, task)
        == "OK, I'll remind you again tomorrow 09:00: Call the board."
    )
    assert texts(ny, at("2026-11-01T13:59:59+00:00")) == []  # 08:59 EST; 09:00 EDT would have been 13:00 UTC
    assert texts(ny, at("2026-11-01T14:00:00+00:00")) == ["Reminder: Call the board, due today 09:00."]

    sunday = at("2026-11-01T09:05:00-05:00")
    assert snooze(rt, sam, sunday, {}, task) == "OK, I'll remind you again today 10:05: Call the board."
    assert texts(ny, at("2026-11-01T15:05:00+00:00")) == ["Reminder: Call the board, due today 10:05."]
    keys = [k for k in ny.delivered_keys() if k.startswith(f"task:{task}:")]
    assert len(keys) == 3  # one occurrence per due time
    rt.close()


def test_snooze_with_nothing_reminded_says_so(world: World) -> None:
    dana = world.user("Dana Rep")
    task = world.task("Not yet due", dana, NOW + timedelta(days=3))
    with transaction(world.runtime.sessions) as session:
        session.get(Task, task).status = "done"  # type: ignore[union-attr]
    assert snooze(world.runtime, dana, NOW, {}, task) == "There's no reminder to snooze right now."


# --- digests --------------------------------------------------------------------------------------------


def test_the_daily_digest_lists_today_overdue_closing_and_quiet_deals(world: World) -> None:
    dana = world.user("Dana Rep")
    other = world.user("Omar Rep")
    acme = world.account("Acme", dana)
    globex = world.account("Globex", dana)
    world.task("Early call", dana, at("2026-11-23T08:00:00+00:00"), acme)  # today, already past: still today
    world.task("Send the proposal", dana, at("2026-11-23T15:00:00+00:00"), acme)
    world.task("Call Bob", dana, at("2026-11-20T10:00:00+00:00"), globex)
    world.task("Omar's task", other, at("2026-11-23T15:00:00+00:00"))
    world.deal("Acme Platform", acme, dana, close=date(2026, 11, 25), last_activity=NOW - timedelta(days=1))
    world.deal(
        "Globex Pilot",
        globex,
        dana,
        amount=20_000,
        close=date(2026, 12, 20),
        last_activity=NOW - timedelta(days=20),
    )
    world.deal("Globex Won", globex, dana, stage="won", close=date(2026, 11, 24))
    world.deal("Omar's deal", acme, other, close=date(2026, 11, 24), last_activity=NOW)

    schedule = Schedule(weekly_roles=())
    sent = {s.recipient: s.text for s in world.run(NOW, schedule) if s.key.startswith("digest:")}
    assert sent["dana.rep@example.test"].splitlines() == [
        "Good morning Dana! Your Monday 23 November:",
        "Today (2):",
        "- today 08:00: Early call (Acme)",
        "- today 15:00: Send the proposal (Acme)",
        "Overdue (1):",
        "- Fri 20 Nov 10:00: Call Bob (Globex)",
        "Closing this week: 1 deal worth $10,000",
        "- Acme Platform (Acme), Proposal, $10,000, closes Wed 25 Nov",
        "No activity for 14 days: 1 deal worth $20,000",
        "- Globex Pilot (Globex), Proposal, $20,000, closes Sun 20 Dec",
    ]
    assert "Omar's task" in sent["omar.rep@example.test"]
    assert f"digest:{dana}:2026-11-23" in world.delivered_keys()


def test_digests_go_out_at_08_30_local_on_weekdays_across_the_autumn_change(world: World) -> None:
    sam = world.user("Sam Rep", timezone="America/New_York")
    schedule = Schedule(weekly_roles=())

    def digests(now: str) -> list[str]:
        return [s.key for s in world.run(at(now), schedule) if s.key.startswith("digest:")]

    assert digests("2026-10-30T12:29:00+00:00") == []  # Friday 08:29 EDT
    assert digests("2026-10-30T12:30:00+00:00") == [f"digest:{sam}:2026-10-30"]
    assert digests("2026-10-30T22:00:00+00:00") == []  # once a day
    assert digests("2026-10-31T12:30:00+00:00") == []  # Saturday
    assert digests("2026-11-01T13:30:00+00:00") == []  # Sunday
    assert digests("2026-11-02T12:30:00+00:00") == []  # Monday 07:30 EST: not yet
    assert digests("2026-11-02T13:29:59+00:00") == []
    assert digests("2026-11-02T13:30:00+00:00") == [f"digest:{sam}:2026-11-02"]  # 08:30 EST
    assert digests("2026-11-03T04:00:00+00:00") == []  # Monday 23:00 EST: Monday's is sent already


def test_a_missed_morning_is_sent_later_that_day_but_never_the_next(world: World) -> None:
    dana = world.user("Dana Rep")
    schedule = Schedule(weekly_roles=())
    assert [s.key for s in world.run(at("2026-11-24T16:00:00+00:00"), schedule)] == [
        f"digest:{dana}:2026-11-24"
    ]
    assert [s.key for s in world.run(at("2026-11-25T08:45:00+00:00"), schedule)] == [
        f"digest:{dana}:2026-11-25"
    ]


def test_the_digest_time_and_days_are_settings() -> None:
    schedule = Schedule.from_env(
        {
            "CRM_DIGEST_AT": "07:45",
            "CRM_DIGEST_DAYS": "mon,wed",
            "CRM_WEEKLY_DIGEST_AT": "fri 16:00",
            "CRM_STALE_DAYS": "7",
        }
    )
    assert (schedule.digest_at.isoformat(), sorted(schedule.digest_days)) == ("07:45:00", [0, 2])
    assert (schedule.weekly_day, schedule.weekly_at.hour, schedule.stale_days) == (4, 16, 7)
    with pytest.raises(ValueError, match="reminder setting"):
        Schedule.from_env({"CRM_DIGEST_AT": "half past eight"})


def test_the_weekly_digest_shows_the_pipeline_what_moved_and_what_slipped(world: World) -> None:
    maria = world.user("Maria Boss", role="manager", timezone="Europe/Berlin")
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    platform = world.deal(
        "Acme Platform", acme, dana, stage="negotiation", amount=40_000, close=date(2026, 12, 15)
    )
    world.deal("Acme Pilot", acme, dana, stage="lead", amount=5_000, close=date(2026, 11, 10))
    world.deal("Acme Old", acme, dana, stage="won", amount=7_000, close=date(2026, 11, 1))

    def audit(days_ago: int, before: dict[str, str], after: dict[str, str], undone: bool = False) -> None:
        def entry(action: str, group: str, before: dict[str, str], after: dict[str, str]) -> AuditEntry:
            return AuditEntry(
                at=NOW - timedelta(days=days_ago),
                user_id=dana,
                channel="terminal",
                change_group=group,
                action=action,
                entity="deals",
                entity_id=platform,
                before={"name": "Acme Platform", **before},
                after={"name": "Acme Platform", **after},
            )

        with transaction(world.runtime.sessions) as session:
            session.add(entry("update", f"g{days_ago}", before, after))
            if undone:  # undo appends its own rows; the change it reverted is left as it was
                session.add(entry("undo", undo_group(f"g{days_ago}"), after, before))

    audit(
        2,
        {"stage": "proposal", "close_date": "2026-11-20"},
        {"stage": "negotiation", "close_date": "2026-12-15"},
    )
    audit(3, {"stage": "lead"}, {"stage": "won"}, undone=True)
    audit(10, {"stage": "lead"}, {"stage": "proposal"})

    monday_0830_berlin = at("2026-11-23T07:30:00+00:00")
    sent = world.run(monday_0830_berlin, Schedule(digest_roles=()))
    (weekly,) = [s for s in sent if s.key == f"weekly:{maria}:2026-11-23"]
    assert weekly.text.splitlines() == [
        "Good morning Maria! The team's week, Monday 23 November:",
        "Pipeline $45,000 in 2 open deals.",
        "Moved in the last 7 days (1):",
        "- Acme Platform: Proposal → Negotiation (Dana Rep, Sat 21 Nov 10:00)",
        "Close date slipped (2):",
        "- Acme Platform: pushed from Fri 20 Nov to Tue 15 Dec (Dana Rep)",
        "- Acme Pilot: was due Tue 10 Nov, still open ($5,000, Dana Rep)",
    ]
    table = outbox(world, weekly.key).payload["reply"]["table"]
    assert table["columns"] == ["Stage", "Deals", "Amount"]
    assert table["rows"] == [["Lead", "1", "$5,000"], ["Negotiation", "1", "$40,000"]]
    assert not [
        s
        for s in world.run(at("2026-11-24T07:30:00+00:00"), Schedule(digest_roles=()))
        if s.key.startswith("weekly")
    ]


# --- stale deals ----------------------------------------------------------------------------------------


def test_a_stale_deal_alerts_its_owner_once_per_n_days(world: World) -> None:
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    deal = world.deal("Acme Platform", acme, dana, last_activity=NOW - timedelta(days=14))
    world.deal("Acme Fresh", acme, dana, last_activity=NOW - timedelta(days=13))
    world.deal("Acme Lost", acme, dana, stage="lost", last_activity=NOW - timedelta(days=60))
    quiet = Schedule(digest_roles=(), weekly_roles=())

    def alerts(now: datetime) -> list[str]:
        return [s.text for s in world.run(now, quiet) if s.key.startswith("stale:")]

    def names(now: datetime) -> list[str]:
        return [text.split(" (")[0] for text in alerts(now)]

    assert alerts(NOW) == [
        "Acme Platform (Acme) has had no activity for 14 days (since Mon 9 Nov 09:00). "
        "Log a call or move it on?"
    ]
    assert names(NOW) == []
    assert names(NOW + timedelta(days=1)) == ["Acme Fresh"]  # 14 days for this one now
    assert names(NOW + timedelta(days=2)) == []
    assert names(NOW + timedelta(days=13)) == []
    assert names(NOW + timedelta(days=14)) == ["Acme Platform"]  # 28 days: the second period
    assert names(NOW + timedelta(days=15)) == ["Acme Fresh"]

    with transaction(world.runtime.sessions) as session:  # a call logged: the count starts again
        session.get(Deal, deal).last_activity_at = NOW + timedelta(days=16)  # type: ignore[union-attr]
    assert names(NOW + timedelta(days=28)) == []
    assert names(NOW + timedelta(days=29)) == ["Acme Fresh"]
    assert names(NOW + timedelta(days=30)) == ["Acme Platform"]
    stale_keys = [k for k in world.delivered_keys() if k.startswith(f"stale:{deal}:")]
    assert len(stale_keys) == 3 and set(world.delivered_keys().values()) == {1}


def test_a_deal_never_worked_on_counts_from_its_creation(world: World) -> None:
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    world.deal("Acme Idle", acme, dana, created=NOW - timedelta(days=7))
    quiet = Schedule(digest_roles=(), weekly_roles=(), stale_days=7)
    assert [s.text.split(" has")[0] for s in world.run(NOW, quiet)] == ["Acme Idle (Acme)"]


# --- the command and the loop ---------------------------------------------------------------------------


def test_crm_reminders_run_prints_one_line_per_delivery(runtime: Runtime) -> None:
    """`crm reminders run` on the default channels: the terminal, whose chat shows them when it opens."""
    world = World(runtime, default_registry())
    dana = world.user("Dana Rep")
    world.task("Call Jane", dana, NOW - timedelta(minutes=1))
    parser = argparse.ArgumentParser(parents=[common_options()])
    reminder_commands.register(parser.add_subparsers(dest="command"))
    argv = ["reminders", "run", "--db", runtime.database_url, "--now", "2026-11-23T09:00", "--tz", "UTC"]

    out = io.StringIO()
    args = parser.parse_args(argv)
    assert reminder_commands.run_reminders(args, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "terminal\tdana.rep@example.test\tReminder: Call Jane, due today 08:59."
    assert lines[1].startswith(
        "terminal\tdana.rep@example.test\tGood morning Dana! Your Monday 23 November: / "
    )
    assert len(lines) == 2

    again = io.StringIO()
    assert reminder_commands.run_reminders(parser.parse_args(argv), again) == 0
    assert again.getvalue() == ""

    with transaction(runtime.sessions) as session:
        inbox = take_inbox(session, "dana.rep@example.test")
    assert [r.plain.splitlines()[0] for r in inbox] == [
        "Reminder: Call Jane, due today 08:59.",
        "Good morning Dana! Your Monday 23 November:",
    ]
    assert [b.kind for b in inbox[0].buttons] == ["done", "snooze", "snooze"]
    with transaction(runtime.sessions) as session:
        assert take_inbox(session, "dana.rep@example.test") == []


def test_the_scheduler_loop_delivers_and_stops(world: World) -> None:
    dana = world.user("Dana Rep")
    world.task("Call Jane", dana, NOW - timedelta(minutes=1))
    stop = threading.Event()
    result: list[int] = []
    loop = threading.Thread(
        target=lambda: result.append(
            run_scheduler(world.runtime, stop, 0.05, channels=world.channels, schedule=TASKS_ONLY)
        )
    )
    loop.start()
    deadline = clock.monotonic() + 20
    while not world.delivered() and clock.monotonic() < deadline:
        clock.sleep(0.05)
    stop.set()
    loop.join(timeout=10)
    assert not loop.is_alive()
    assert result == [1] and list(world.delivered_keys().values()) == [1]


def test_the_command_fits_crm_main(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `crm reminders run` once adapters/cli/main.py lists the module in MODULES."""
    from adapters.cli import main

    if reminder_commands not in main.MODULES:
        monkeypatch.setattr(main, "MODULES", (*main.MODULES, reminder_commands))
    dana = World(runtime, default_registry()).user("Dana Rep")
    World(runtime, default_registry()).task("Call Jane", dana, NOW - timedelta(minutes=1))
    db = ["--db", runtime.database_url, "--tz", "UTC"]
    assert main.main(["reminders", "run", *db, "--now", "2026-11-23T09:00"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "terminal\tdana.rep@example.test\tReminder: Call Jane, due today 08:59."
    )
    assert main.main(["reminders", "run", *db, "--now", "2026-11-23T09:00"]) == 0
    assert capsys.readouterr().out == ""
    assert main.main(["reminders", "run", *db, "--now", "tomorrow"]) == 1
    assert "is not an ISO date-time" in capsys.readouterr().err
