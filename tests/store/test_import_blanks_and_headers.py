"""Issue 11: `crm import` refuses a row whose required column is blank (named by line, nothing written),
and reads headers whatever their case ("Name,Account")."""

from __future__ import annotations

from pathlib import Path

import pytest
from seeded import seed_demo
from sqlalchemy import func, select

from assistant import admin
from assistant.runtime import Runtime
from storage.importing import CsvImportError, column_name
from storage.models import Account, Contact, Deal, Task, User

BLANK_ROWS = [
    ("accounts", "name,industry\nGood Co,Software\n,Retail\n", [(3, "name")]),
    ("accounts", "name\n  \nGood Co\n", []),  # a wholly blank line is skipped, not refused
    ("deals", "name,account\nBig,Acme Corporation\n,Acme Corporation\nX,\n", [(3, "name"), (4, "account")]),
    ("contacts", "name,email\n,ann@example.test\n", [(2, "name")]),
    ("users", "name,email,role\n,ann@example.test,rep\nBo,,\n", [(2, "name"), (3, "email"), (3, "role")]),
    ("activities", "type,account\n,Acme Corporation\n", [(2, "type")]),
    ("tasks", "title,due\n,2026-12-01\n", [(2, "title")]),
    ("kb", "article,question,answer\n,how?,because\nbilling,,yes\n", [(2, "article"), (3, "question")]),
]  # fmt: skip


def count(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        models = (User, Account, Contact, Deal, Task)
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


@pytest.mark.parametrize(
    "kind,text,problems", BLANK_ROWS, ids=[f"{k}-{i}" for i, (k, _t, _p) in enumerate(BLANK_ROWS)]
)
def test_a_blank_required_value_refuses_the_file(
    runtime: Runtime, tmp_path: Path, kind: str, text: str, problems: list[tuple[int, str]]
) -> None:
    seed_demo(runtime)
    before = count(runtime)
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    if not problems:
        admin.import_file(runtime, kind, path)
        return
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(runtime, kind, path)
    assert [(e.line, e.column) for e in refused.value.errors] == problems, str(refused.value)
    assert all("a required value is blank" in e.message for e in refused.value.errors)
    assert count(runtime) == before


def test_headers_are_read_whatever_their_case(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    path = tmp_path / "deals.csv"
    path.write_text(
        "Name,Account,AMOUNT,Close Date\nCase Deal,Acme Corporation,1000,2026-12-31\n", encoding="utf-8"
    )
    assert admin.import_file(runtime, "deals", path).created == 1
    with runtime.sessions() as session:
        deal = session.scalars(select(Deal).where(Deal.name == "Case Deal")).one()
        assert (deal.amount, deal.close_date.isoformat()) == (1000, "2026-12-31")


def test_column_names() -> None:
    assert [column_name(h) for h in ("Name", " ACCOUNT ", "\ufeffname", "close date", "Owner-Email")] == [
        "name",
        "account",
        "name",
        "close_date",
        "owner_email",
    ]
