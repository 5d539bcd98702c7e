"""The spoken test set (make_recordings.py made it): its recordings, what each says, and the judge.

A command is accepted when the parse of its transcript has the expected intent and every expected slot
right, and no other slot (intents.evaluate's whole-frame rule), at the set's fixed clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intents.evaluate import Report
from intents.parser import Parser

HERE = Path(__file__).resolve().parent
AUDIO = HERE / "audio"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the clock the expected dates were written at
NOW_ARGS = ["--tz", "UTC", "--now", "2026-11-23T09:00"]


@dataclass(frozen=True)
class Recording:
    path: Path
    text: str
    intent: str
    slots: dict[str, Any]
    condition: str  # clean, snr20, snr10


def commands() -> dict[str, dict[str, Any]]:
    lines = (HERE / "commands.jsonl").read_text("utf-8").splitlines()
    return {item["id"]: item for item in map(json.loads, lines)}


def recordings(condition: str | None = None) -> list[Recording]:
    """Every recording of the set (of one condition), in file-name order."""
    said = commands()
    out = []
    for path in sorted(AUDIO.glob("*.opus")):
        command_id, _, kind = path.stem.split("-")
        item = said[command_id]
        if condition is None or kind == condition:
            out.append(Recording(path, item["text"], item["intent"], item["slots"], kind))
    return out


def accepted(parser: Parser, recording: Recording, transcript: str) -> bool:
    parse = parser.parse(transcript, NOW)
    report = Report()
    report.add(transcript, recording.intent, recording.slots, parse.intent, parse.slots)
    return report.frame_right == 1
