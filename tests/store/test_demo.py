"""`crm demo`: a realistic company, the same every time, around the day it is seeded."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from assistant import admin
from assistant.runtime import Runtime
from storage.models import Activity, Deal, Task, User
from storage.pipeline import default_pipeline


def test_the_demo_seeds_a_whole_company(runtime: Runtime) -> None:
    summary = admin.seed_demo(runtime)
    assert summary is not None
    assert summary.counts["accounts"] == 40
    assert summary.counts["contacts"] == 80
    assert summary.counts["deals"] == 120
    assert summary.counts["activities"] > 150
    with runtime.sessions() as session:
        roles = sorted(u.role for u in session.scalars(select(User)))
        assert roles.count("rep") >= 3 and "manager" in roles
        deals = session.scalars(select(Deal)).all()
        assert {d.stage for d in deals} == set(default_pipeline().keys)
        today = runtime.now().date()
        closes = [d.close_date for d in deals if d.close_date]
        assert min(closes) <= today - timedelta(days=150) and max(closes) >= today + timedelta(days=150)
        tasks = session.scalars(select(Task)).all()
        overdue = [t for t in tasks if t.status == "open" and t.due_at.date() < today]
        assert overdue and any(t.status == "done" for t in tasks)


def test_the_demo_is_deterministic_and_seeds_only_an_empty_store(runtime: Runtime, tmp_path) -> None:
    admin.seed_demo(runtime)
    assert admin.seed_demo(runtime) is None
    other = Runtime(f"sqlite:///{tmp_path / 'other.sqlite3'}", runtime.tz, runtime.fixed_now)
    try:
        admin.seed_demo(other)
        for kind in ("deals", "activities", "tasks"):
            a, b = io.StringIO(), io.StringIO()
            admin.export_kind(runtime, kind, a, "csv")
            admin.export_kind(other, kind, b, "csv")
            assert a.getvalue() == b.getvalue(), kind
    finally:
        other.close()


def test_demo_activities_lie_in_the_past(runtime: Runtime) -> None:
    admin.seed_demo(runtime)
    with runtime.sessions() as session:
        latest = max(a.occurred_at for a in session.scalars(select(Activity)))
    assert latest.date() < date(2026, 11, 23)
