"""The third held-out set (heldout_c.jsonl, see README.md): a floor a little under what the parser gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from intents.evaluate import Report
from intents.parser import Parser

HELDOUT = Path(__file__).with_name("heldout_c.jsonl")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_third_held_out_set_meets_the_bar(parser: Parser) -> None:
    report = Report()
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        got = parser.parse(item["text"], NOW, item.get("role", "rep"))
        report.add(item["text"], item["intent"], item["slots"], got.intent, got.slots)
    assert report.total >= 250
    summary = f"intent {report.intent_accuracy:.4f}, frame {report.frame_accuracy:.4f}\n{report.render(15)}"
    assert report.intent_accuracy >= 0.98, summary
    assert report.frame_accuracy >= 0.97, summary
