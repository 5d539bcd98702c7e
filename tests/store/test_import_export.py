"""Import and export: all or nothing, bad rows named by line and column, exports that re-import."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from seeded import seed_demo
from sqlalchemy import func, select

from assistant import admin
from assistant.runtime import Runtime
from storage.csv_formats import EXPORT_KINDS, IMPORT_KINDS
from storage.importing import CsvImportError
from storage.models import Account, Activity, AuditEntry, Contact, Deal, Task, User

CASES = json.loads(Path(__file__).with_name("bad_imports.json").read_text())
COUNTED = (User, Account, Contact, Deal, Activity, Task)


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def export_all(runtime: Runtime) -> dict[str, str]:
    out = {}
    for kind in EXPORT_KINDS:
        buffer = io.StringIO()
        admin.export_kind(runtime, kind, buffer, "csv")
        out[kind] = buffer.getvalue()
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_a_bad_file_is_refused_whole_and_named(runtime: Runtime, tmp_path: Path, case: dict) -> None:
    seed_demo(runtime)
    before = counts(runtime)
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(runtime, case["kind"], write(tmp_path, case["csv"]))
    first = refused.value.errors[0]
    assert (first.line, first.column) == (case["line"], case["column"]), str(refused.value)
    assert case["says"] in first.message
    assert counts(runtime) == before


def test_every_problem_of_a_file_is_reported_at_once(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    text = "name,account,amount,close_date\nA,Acme Corporation,x,2026-01-01\nB,Nowhere,5,soon\n"
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(runtime, "deals", write(tmp_path, text))
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "amount"),
        (3, "account"),
        (3, "close_date"),
    ]


def test_good_files_import_and_update_by_natural_key(runtime: Runtime, tmp_path: Path) -> None:
    users = "name,email,role,slack_id\nAda Rep,ada@example.com,rep,U1\nMo Boss,mo@example.com,manager,\n"
    assert admin.import_file(runtime, "users", write(tmp_path, users)).created == 2
    accounts = "name,domain,industry,owner_email\nZorblax Ltd,zorblax.example,Software,ADA@example.com\n"
    assert admin.import_file(runtime, "accounts", write(tmp_path, accounts)).created == 1
    deals = (
        "name,account,amount,stage,close_date,owner_email,created_at\n"
        "Zorblax Pilot,zorblax ltd,12500.50,proposal,2026-12-31,,2026-11-01T10:00\n"
        "Zorblax Renewal,Zorblax Ltd,,won,2026-10-15,mo@example.com,\n"
    )
    result = admin.import_file(runtime, "deals", write(tmp_path, deals))
    assert (result.created, result.updated) == (2, 0)
    again = admin.import_file(runtime, "deals", write(tmp_path, deals.replace("12500.50", "13000")))
    assert (again.created, again.updated) == (0, 2)
    with runtime.sessions() as session:
        pilot = session.scalars(select(Deal).where(Deal.name == "Zorblax Pilot")).one()
        assert (str(pilot.amount), pilot.stage, pilot.probability) == ("13000.00", "proposal", 50)
        assert pilot.owner.email == "ada@example.com"  # the account owner when none is given
        renewal = session.scalars(select(Deal).where(Deal.name == "Zorblax Renewal")).one()
        assert (renewal.probability, renewal.closed_on.isoformat()) == (100, "2026-10-15")
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
        assert [a.entity for a in audit] == ["users", "accounts", "deals", "deals"]


def test_activities_keep_last_activity_current(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    text = (
        "type,account,contact,deal,occurred_at,notes,user_email\n"
        "call,Acme Corporation,Jane Doe,,2026-11-23T08:30,Talked renewal,daniel.okafor@northwind.example\n"
    )
    admin.import_file(runtime, "activities", write(tmp_path, text))
    with runtime.sessions() as session:
        acme = session.scalars(select(Account).where(Account.name == "Acme Corporation")).one()
        assert acme.last_activity_at.isoformat() == "2026-11-23T08:30:00+00:00"


def test_an_export_reimports_to_the_same_records(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    first = export_all(runtime)
    fresh_url = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    copy = Runtime(fresh_url, runtime.tz, runtime.fixed_now)
    try:
        for kind in IMPORT_KINDS:
            admin.import_file(copy, kind, write(tmp_path, first[kind], f"{kind}.csv"))
        second = export_all(copy)
    finally:
        copy.close()
    for kind in IMPORT_KINDS:
        assert second[kind] == first[kind], kind
    assert first["deals"].count("\n") == 121


def test_jsonl_export_has_one_object_per_record(runtime: Runtime) -> None:
    seed_demo(runtime)
    buffer = io.StringIO()
    assert admin.export_kind(runtime, "tickets", buffer, "jsonl") == 6
    rows = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert {r["number"] for r in rows} >= {"1042"}
    assert set(rows[0]) == {
        "number",
        "subject",
        "status",
        "priority",
        "customer_name",
        "customer_email",
        "created_at",
        "assignee",
        "csat",
    }
    assert {r["number"]: r["csat"] for r in rows}["1040"] == "5"  # the demo's solved tickets were rated
