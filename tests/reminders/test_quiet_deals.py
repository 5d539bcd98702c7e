"""Issue 11: one rule for a quiet deal. "No activity in N days" (query_deals, and the morning digest
through it) and the stale-deal alerts agree: silence counts from the last activity, else from the
deal's creation, so a deal created minutes ago is not stale."""

from __future__ import annotations

from datetime import timedelta

from reminder_world import NOW, World

from assistant.schedule import Schedule


def test_the_digest_and_the_alerts_find_the_same_quiet_deals(world: World) -> None:
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    days = timedelta(days=1)
    world.deal("Just Created", acme, dana, created=NOW - timedelta(minutes=5))
    world.deal("Never Touched", acme, dana, created=NOW - 20 * days)
    world.deal("Gone Quiet", acme, dana, created=NOW - 60 * days, last_activity=NOW - 20 * days)
    world.deal("Just Quiet", acme, dana, created=NOW - 60 * days, last_activity=NOW - 14 * days)
    world.deal("Busy", acme, dana, created=NOW - 60 * days, last_activity=NOW - days)

    sent = world.run(NOW, Schedule(weekly_roles=()))
    alerted = sorted(s.text.split(" (")[0] for s in sent if s.key.startswith("stale:"))
    digest = next(s.text for s in sent if s.key.startswith("digest:")).splitlines()
    start = next(i for i, line in enumerate(digest) if line.startswith("No activity for 14 days"))
    listed = sorted(line[2:].split(" (")[0] for line in digest[start + 1 :] if line.startswith("- "))

    assert alerted == ["Gone Quiet", "Just Quiet", "Never Touched"]
    assert listed == alerted
    assert digest[start].startswith("No activity for 14 days: 3 deals worth $30,000")
