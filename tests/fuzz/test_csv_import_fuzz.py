"""`crm import` refuses a garbled file whole: a truncated row, a stray quote, a wrong value, a NUL, a line
in another encoding or plain random bytes end in a clear error that names the line, and not one row of
the file is written. Never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.cli.main import main as crm
from assistant import admin
from assistant.admin import AdminError
from assistant.runtime import Runtime
from storage.importing import CsvImportError
from storage.models import Base

ROWS = 6  # good rows around the bad one
# Per kind: a header and a good row ({i} numbers it), and which cell to spoil with a value that can never
# be right there (an unknown user, a word where a number or a date goes, an e-mail without "@").
FILES = {
    "accounts": ("name,domain,industry,owner_email", "Fuzz Co {i},fuzz{i}.example,Energy,{user}", 3),
    "contacts": ("name,email,phone,account", "Fuzz Person {i},p{i}@fuzz.example,555 01{i},Hooli", 1),
    "deals": ("name,account,amount,stage,close_date", "Fuzz deal {i},Hooli,1000,lead,2026-12-01", 2),
    "activities": ("type,account,occurred_at,notes", "call,Hooli,2026-11-20T10:00,notes {i}", 2),
    "tasks": ("title,due,account,status", "Call back {i},2026-12-01,Hooli,open", 1),
}
USER = "daniel.okafor@northwind.example"
SPOILED = {  # a value that is never valid in the spoiled cell, whatever follows the "¿"
    "accounts": "nobody.{junk}@nowhere.invalid",
    "contacts": "¿{junk}",
    "deals": "¿{junk}",
    "activities": "¿{junk}",
    "tasks": "¿{junk}",
}
MUTATIONS = ["drop_cell", "extra_cell", "bad_value", "latin1", "nul", "open_quote", "truncated"]
JUNK = st.text(st.characters(blacklist_characters='",\r\n\x00', blacklist_categories=["Cs"]), max_size=30)


@dataclass(frozen=True)
class Spoiled:
    kind: str
    data: bytes
    line: int  # the line the refusal must name


def spoil(kind: str, mutation: str, bad: int, junk: str) -> Spoiled:
    header, template, column = FILES[kind]
    rows = [template.format(i=i, user=USER) for i in range(ROWS)]
    cells = rows[bad].split(",")
    tail = b""
    if mutation == "drop_cell":
        cells.pop()
    elif mutation == "extra_cell":
        cells.append(junk)
    elif mutation == "bad_value":
        cells[column] = SPOILED[kind].format(junk=junk)
    elif mutation == "nul":
        cells[0] = cells[0][:3] + "\x00" + junk
    elif mutation == "open_quote":
        cells[column] = '"' + cells[column]
    rows[bad] = ",".join(cells)
    lines = [line.encode("utf-8") for line in [header, *rows]]
    if mutation == "latin1":
        lines[bad + 1] = ("Müller " + rows[bad]).encode("latin-1")  # saved as Latin-1, not UTF-8
    if mutation == "truncated":  # the file ends in the middle of the bad row, before its last cell
        cut = rows[bad].rfind(",")
        lines, tail = lines[: bad + 1], rows[bad][: max(1, cut - len(junk) % 3)].encode()
    data = b"\n".join(lines) + (b"\n" + tail if tail else b"\n")
    return Spoiled(kind, data, bad + 2)  # line 1 is the header


def row_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def demo(runtime: Runtime) -> Runtime:
    admin.seed_demo(runtime)
    return runtime


@pytest.mark.parametrize("kind", sorted(FILES))
def test_the_unspoiled_files_import_whole(demo: Runtime, tmp_path: Path, kind: str) -> None:
    header, template, _ = FILES[kind]  # the control: each refusal below is the spoiled row's doing
    path = tmp_path / "in.csv"
    path.write_text("\n".join([header, *(template.format(i=i, user=USER) for i in range(ROWS))]) + "\n")
    result = admin.import_file(demo, kind, path)
    assert result.created + result.updated == ROWS


@budget(40, deadline_ms=5_000)
@given(
    kind=st.sampled_from(sorted(FILES)),
    mutation=st.sampled_from(MUTATIONS),
    bad=st.integers(0, ROWS - 1),
    junk=JUNK,
)
@example(kind="contacts", mutation="nul", bad=0, junk="")  # PostgreSQL refused the NUL with no line
@example(kind="deals", mutation="latin1", bad=4, junk="")  # named a byte of the wrong chunk, no line
def test_a_spoiled_row_refuses_the_whole_file_naming_its_line(
    demo: Runtime, tmp_path: Path, kind: str, mutation: str, bad: int, junk: str
) -> None:
    spoiled = spoil(kind, mutation, bad, junk)
    path = tmp_path / "in.csv"
    path.write_bytes(spoiled.data)
    before = row_counts(demo)
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(demo, kind, path)
    assert refused.value.errors[0].line == spoiled.line, str(refused.value)
    assert row_counts(demo) == before


@budget(40, deadline_ms=5_000)
@given(kind=st.sampled_from(sorted(FILES)), data=st.binary(max_size=600))
@example(kind="accounts", data=b"\xff\xfen\x00a\x00m\x00e\x00\n\x00")  # UTF-16, as some spreadsheets save
@example(kind="deals", data=b"name,account\n\x00\x00\x00\n")
def test_random_bytes_are_refused_or_imported_never_half(
    demo: Runtime, tmp_path: Path, kind: str, data: bytes
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    before = row_counts(demo)
    try:
        admin.import_file(demo, kind, path)
    except CsvImportError as refused:
        assert refused.errors and all(error.line >= 1 for error in refused.errors)
        assert row_counts(demo) == before
    except AdminError:
        assert row_counts(demo) == before


def test_a_quote_left_open_is_refused_not_read_as_the_rest_of_the_file(demo: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"  # the notes of line 2 used to swallow line 3: one activity, silently
    path.write_text(
        "type,account,occurred_at,notes\n"
        'call,Hooli,2026-11-20T10:00,"renewal\n'
        "call,Hooli,2026-11-21T10:00,pricing\n",
        encoding="utf-8",
    )
    before = row_counts(demo)
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(demo, "activities", path)
    assert refused.value.errors[0].line == 2 and "never closed" in refused.value.errors[0].message
    assert row_counts(demo) == before


def test_a_bad_row_after_twenty_thousand_good_ones_is_named_and_nothing_is_written(
    demo: Runtime, tmp_path: Path
) -> None:
    header, template, _ = FILES["deals"]
    rows = [template.format(i=i, user=USER) for i in range(20_000)]
    rows.append("Fuzz deal last,Hooli,lots,lead,2026-12-01")
    path = tmp_path / "big.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    before = row_counts(demo)
    with pytest.raises(CsvImportError) as refused:
        admin.import_file(demo, "deals", path)
    assert [(e.line, e.column) for e in refused.value.errors] == [(20_002, "amount")]
    assert row_counts(demo) == before


@budget(10, deadline_ms=10_000)
@given(kind=st.sampled_from(sorted(FILES)), mutation=st.sampled_from(MUTATIONS), bad=st.integers(0, ROWS - 1))
def test_crm_import_says_which_line_in_one_plain_block_without_a_traceback(
    demo: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, mutation: str, bad: int
) -> None:
    spoiled = spoil(kind, mutation, bad, "junk")
    path = tmp_path / "in.csv"
    path.write_bytes(spoiled.data)
    before = row_counts(demo)
    assert crm(["import", kind, str(path), "--db", demo.database_url]) == 1
    err = capsys.readouterr().err
    assert f"{path}: line {spoiled.line}" in err and "nothing was imported" in err, err
    assert "Traceback" not in err
    assert row_counts(demo) == before
