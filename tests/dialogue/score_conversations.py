"""Scores conversations kept as data (the format of tests/dialogue/conversations/) without failing fast:
how many conversations and turns went as written, the wrong writes, and the needless confirmations.

For sets that measure rather than guard, such as the blind tests/dialogue/heldout_d/:

    python tests/dialogue/score_conversations.py tests/dialogue/heldout_d [--failures]

A turn's confirmation (a yes/no question before a write) is needless when the turn expected no question:
none of its expected reply fragments asks one ("?"). Wrong writes: tests/conversation_cases.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conversation_cases import audit_mark, changed_since, check_store, reply_text, wrong_writes

from assistant import admin
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Score:
    conversations: int = 0
    conversations_ok: int = 0
    turns: int = 0
    turns_ok: int = 0
    wrong_writes: list[str] = field(default_factory=list)
    confirmations: int = 0
    needless: int = 0
    failures: list[str] = field(default_factory=list)


def turn_problems(reply_text: str, turn: dict[str, Any]) -> list[str]:
    text = reply_text.lower()
    problems = [f"lacks {f!r}" for f in turn.get("reply", []) if f.lower() not in text]
    problems += [f"has {f!r}" for f in turn.get("not", []) if f.lower() in text]
    return problems


def play(case: dict[str, Any], where: str, score: Score) -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime.from_settings(f"sqlite:///{folder}/crm.sqlite3", "UTC", NOW.isoformat())
        admin.seed_demo(runtime)
        bot = Assistant(runtime)
        ok = True
        for turn in case["turns"]:
            mark = audit_mark(runtime)
            message = Message(
                "terminal",
                case["as"],
                turn["say"],
                customer=case.get("customer", False),
                sender_is_email=True,
            )
            reply = bot.handle(message)
            text = reply_text(reply)
            problems = turn_problems(text, turn)
            if "intent" in turn and reply.intent != turn["intent"]:
                problems.append(f"intent {reply.intent}")
            try:
                check_store(runtime, turn.get("store", []), turn["say"])
            except AssertionError as failed:
                problems.append(f"store: {failed}")
            wrong = wrong_writes(runtime, turn, changed_since(runtime, mark))
            score.wrong_writes += [f"{where}: {turn['say']!r}: {w}" for w in wrong]
            if any(b.kind == "confirm" for b in reply.buttons):
                score.confirmations += 1
                score.needless += not any("?" in f for f in turn.get("reply", []))
            score.turns += 1
            score.turns_ok += not problems and not wrong
            if problems:
                ok = False
                score.failures.append(f"{where}: {turn['say']!r} -> {text!r}: {'; '.join(problems)}")
        runtime.close()
    score.conversations += 1
    score.conversations_ok += ok


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("folder", type=Path)
    args.add_argument("--failures", action="store_true", help="list each turn that did not go as written")
    options = args.parse_args()
    score = Score()
    for path in sorted(options.folder.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            play(case, f"{path.stem}: {case['name']}", score)
    print(f"conversations  {score.conversations_ok} of {score.conversations} as written")
    print(f"turns          {score.turns_ok} of {score.turns}")
    print(f"wrong writes   {len(score.wrong_writes)}")
    print(f"confirmations  {score.confirmations} ({score.needless} needless)")
    for line in score.wrong_writes:
        print(f"  wrong write: {line}")
    if options.failures:
        for line in score.failures:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
