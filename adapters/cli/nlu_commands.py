"""`crm parse`, `crm eval-nlu` and `crm eval-kb`: the NLU alone, read-only."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.cli.common import common_options, runtime_from
from adapters.cli.voice_commands import engine_options
from intents.catalogue import ROLES

if TYPE_CHECKING:
    from intents.parser import Parser


def register(commands: Any) -> None:
    common = [common_options()]
    parse = commands.add_parser(
        "parse",
        parents=[*common, engine_options()],
        help="parse text into intent and slots (read-only)",
        description="Parse TEXT, or each line of stdin (plain text or a JSON object with a 'text' field).",
    )
    parse.add_argument("text", nargs="*", metavar="TEXT")
    parse.add_argument(
        "--audio",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="parse recordings (WAV or OGG/Opus): one JSON object per file, with its transcript",
    )
    parse.add_argument("--role", choices=ROLES, default="rep", help="who is speaking (default: rep)")
    output = parse.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object (the default for TEXT)")
    output.add_argument("--jsonl", action="store_true", help="one JSON object per input line")
    parse.set_defaults(handler=run_parse)

    evaluate = commands.add_parser(
        "eval-nlu",
        parents=common,
        help="score the parser on a labelled JSONL file",
        description='Each line: {"text", "intent", "slots"[, "role"]}. Prints accuracy, slot scores, '
        "confusions and errors.",
    )
    evaluate.add_argument("file", type=Path, metavar="FILE.jsonl")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--min-intent", type=float, metavar="X", help="exit 1 if intent accuracy is below X"
    )
    evaluate.add_argument("--min-frame", type=float, metavar="X", help="exit 1 if frame accuracy is below X")
    evaluate.set_defaults(handler=run_eval)

    kb = commands.add_parser(
        "eval-kb",
        parents=common,
        help="score the knowledge-base classifier on a labelled JSONL file",
        description='Each line: {"text", "article"}, the article\'s key, or null (or "oos") for a question '
        "the knowledge base does not answer. Scored against the knowledge base in the store: accuracy "
        "(a right answer or a right refusal), in-scope accuracy, out-of-scope recall, and a table of "
        "confidence against accuracy.",
    )
    kb.add_argument("file", type=Path, metavar="FILE.jsonl")
    kb.add_argument("--errors", type=int, default=20, metavar="N", help="list at most N errors (default 20)")
    kb.add_argument("--min-accuracy", type=float, metavar="X", help="exit 1 if accuracy is below X")
    kb.set_defaults(handler=run_eval_kb)


def _line_text(line: str) -> tuple[str, str | None]:
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            item = json.loads(stripped)
        except json.JSONDecodeError:
            return line.rstrip("\n"), None
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            return item["text"], item.get("role")
    return line.rstrip("\n"), None


def run_parse(args: argparse.Namespace) -> int:
    from assistant.nlu import store_parser

    runtime = runtime_from(args)
    parser = store_parser(runtime)
    if args.audio:
        return _parse_audio(args, parser, runtime.now())
    if args.text:
        result = parser.parse(" ".join(args.text), runtime.now(), args.role)
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=None if args.jsonl else 2))
        return 0
    for line in sys.stdin:
        text, role = _line_text(line)
        result = parser.parse(text, runtime.now(), role if role in ROLES else args.role)
        print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
    return 0


def _parse_audio(args: argparse.Namespace, parser: Parser, now: datetime) -> int:
    """One JSON object per recording, its transcript beside the parse; a bad file is reported and
    skipped (exit 1)."""
    from adapters.voice.transcriber import open_transcriber, transcripts

    transcriber = open_transcriber(args.engine, args.model, parser.index)
    failed = 0
    for _path, heard in transcripts(transcriber, args.audio, "crm parse"):
        if heard is None:
            failed += 1
            continue
        result = {**parser.parse(heard, now, args.role).to_json(), "transcript": heard}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def run_eval(args: argparse.Namespace) -> int:
    from assistant.gate import asks_first
    from assistant.nlu import store_parser
    from intents.evaluate import Report

    runtime = runtime_from(args)
    parser = store_parser(runtime)
    report = Report()
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SystemExit(f"crm eval-nlu: no such file: {args.file}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, intent, slots = item["text"], item["intent"], item.get("slots", {})
        except (json.JSONDecodeError, KeyError, TypeError):
            print(
                f'crm eval-nlu: {args.file}: line {number} is not {{"text", "intent", "slots"}}',
                file=sys.stderr,
            )
            return 1
        got = parser.parse(text, runtime.now(), item.get("role", "rep"))
        report.add(text, intent, slots, got.intent, got.slots, asks_first(got), bool(got.spelt))
    print(json.dumps(report.to_json(), indent=2) if args.json else report.render())
    if (args.min_intent and report.intent_accuracy < args.min_intent) or (
        args.min_frame and report.frame_accuracy < args.min_frame
    ):
        print(
            f"crm eval-nlu: below the bar "
            f"(intent {report.intent_accuracy:.4f}, frame {report.frame_accuracy:.4f})",
            file=sys.stderr,
        )
        return 1
    return 0


def run_eval_kb(args: argparse.Namespace) -> int:
    from assistant.admin import train_kb
    from intents.kb_eval import read_labelled, report, score

    try:
        questions = read_labelled(args.file)
    except FileNotFoundError:
        raise SystemExit(f"crm eval-kb: no such file: {args.file}") from None
    except ValueError as problem:
        raise SystemExit(f"crm eval-kb: {problem}") from None
    runtime = runtime_from(args)
    runtime.ensure_schema()
    result = score(train_kb(runtime), questions)
    print("\n".join(report(result, args.errors)))
    if args.min_accuracy and result.accuracy < args.min_accuracy:
        print(f"crm eval-kb: below the bar (accuracy {result.accuracy:.4f})", file=sys.stderr)
        return 1
    return 0
