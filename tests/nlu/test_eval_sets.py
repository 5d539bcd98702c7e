"""The held-out sets (see README.md) as regression floors: a little under what the parser gets today.

testset.jsonl was written blind; heldout_b and heldout_c were written blind too and then used for fixes,
so their floors guard against regressions and no longer measure generalisation. On every set, no line
may be a wrong write: read as a write that goes ahead unasked and is not what was meant.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.gate import asks_first
from intents.evaluate import Report
from intents.parser import Parser

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SETS = [  # file, at least this many lines, intent and whole-frame accuracy floors
    ("testset.jsonl", 600, 0.98, 0.97),
    ("heldout_b.jsonl", 250, 0.97, 0.95),
    ("heldout_c.jsonl", 250, 0.98, 0.97),
]


@pytest.mark.parametrize(("name", "lines", "intent", "frame"), SETS, ids=[s[0] for s in SETS])
def test_a_held_out_set_meets_its_floor(
    parser: Parser, name: str, lines: int, intent: float, frame: float
) -> None:
    report = Report()
    for line in Path(__file__).with_name(name).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        got = parser.parse(item["text"], NOW, item.get("role", "rep"))
        report.add(item["text"], item["intent"], item["slots"], got.intent, got.slots, asks_first(got))
    assert report.total >= lines
    summary = f"intent {report.intent_accuracy:.4f}, frame {report.frame_accuracy:.4f}\n{report.render(15)}"
    assert report.intent_accuracy >= intent, summary
    assert report.frame_accuracy >= frame, summary
    assert not report.wrong_writes, summary  # a write read wrong must be asked about, never made
