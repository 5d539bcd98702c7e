"""The held-out sets (see README.md) as regression floors: a little under what the parser gets today.

testset.jsonl was written blind; heldout_b, heldout_c and heldout_d were written blind too and then used
for fixes, so their floors guard against regressions and no longer measure generalisation. Every set is
read by a parser built on the seeded demo store, deals included, as `crm eval-nlu` and `make eval` read it
(terse.jsonl, issue 11's Slack one-liners, names deals by their account and their own words).
On every set, no line may be a wrong write: read as a write that goes ahead unasked and is not what
was meant.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.admin import seed_demo
from assistant.gate import asks_first
from assistant.nlu import store_parser
from assistant.runtime import Runtime
from intents.evaluate import Report
from intents.parser import Parser

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SETS = [  # file, at least this many lines, intent and whole-frame accuracy floors
    ("testset.jsonl", 600, 0.98, 0.97),
    ("heldout_b.jsonl", 250, 0.97, 0.95),
    ("heldout_c.jsonl", 250, 0.98, 0.97),
    ("heldout_d.jsonl", 250, 0.96, 0.95),
    ("terse.jsonl", 100, 0.97, 0.95),
]


def _score(parser: Parser, name: str, lines: int, intent: float, frame: float) -> None:
    report = Report()
    for line in Path(__file__).with_name(name).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        got = parser.parse(item["text"], NOW, item.get("role", "rep"))
        report.add(
            item["text"],
            item["intent"],
            item["slots"],
            got.intent,
            got.slots,
            asks_first(got),
            bool(got.spelt),
        )
    assert report.total >= lines
    summary = f"intent {report.intent_accuracy:.4f}, frame {report.frame_accuracy:.4f}\n{report.render(15)}"
    assert report.intent_accuracy >= intent, summary
    assert report.frame_accuracy >= frame, summary
    assert not report.wrong_writes, summary  # a write read wrong must be asked about, never made


@pytest.fixture(scope="module")
def demo_store_parser(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parser]:
    """A parser on the seeded demo store (`crm demo --now 2026-11-23T09:00`): its deals have names."""
    path = tmp_path_factory.mktemp("demo") / "crm.sqlite3"
    shutil.copy(sqlite_template, path)
    runtime = Runtime(f"sqlite:///{path}", ZoneInfo("UTC"), NOW)
    seed_demo(runtime)
    yield store_parser(runtime)
    runtime.close()


@pytest.mark.parametrize(("name", "lines", "intent", "frame"), SETS, ids=[s[0] for s in SETS])
def test_a_held_out_set_meets_its_floor(
    demo_store_parser: Parser, name: str, lines: int, intent: float, frame: float
) -> None:
    _score(demo_store_parser, name, lines, intent, frame)
