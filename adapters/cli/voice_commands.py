"""`crm voice` (spoken turns from recordings) and what `crm parse --audio` shares with it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from adapters.cli.common import CliError, common_options, runtime_from
from adapters.voice.transcriber import ENGINE_ENV, ENGINES, VOSK_MODEL_ENV

USER_ENV = "CRM_USER"


def engine_options() -> argparse.ArgumentParser:
    """--engine and --model, for every command that listens."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--engine", choices=ENGINES, help=f"speech-to-text engine (else {ENGINE_ENV}, else pocketsphinx)"
    )
    parent.add_argument("--model", metavar="DIR", help=f"the Vosk model folder (else {VOSK_MODEL_ENV})")
    return parent


def register(commands: Any) -> None:
    voice = commands.add_parser(
        "voice",
        parents=[common_options(), engine_options()],
        help="spoken turns from recordings (WAV or OGG/Opus)",
        description="Each recording is one spoken turn of one conversation: transcript, parse, reply.",
    )
    voice.add_argument("files", nargs="+", type=Path, metavar="FILE")
    voice.add_argument("--as", dest="user", metavar="EMAIL", help=f"who you are (else {USER_ENV})")
    voice.add_argument(
        "--speak", type=Path, metavar="OUT.wav", help="write the last reply as speech (.wav, .ogg)"
    )
    voice.add_argument(
        "--jsonl", action="store_true", help='one JSON object per turn: {"file", "transcript", "intent", ...}'
    )
    voice.set_defaults(handler=run_voice)


def run_voice(args: argparse.Namespace) -> int:
    from adapters import terminal
    from adapters.voice.channel import VoiceChannel
    from adapters.voice.transcriber import open_transcriber, transcripts
    from assistant.engine import Assistant
    from assistant.messages import Reply
    from assistant.nlu import store_parser

    runtime = runtime_from(args)
    try:
        assistant = Assistant(runtime)
        who = args.user or os.environ.get(USER_ENV) or assistant.default_staff_email()
        if not who:
            raise CliError("say who you are: crm voice --as EMAIL FILE...")
        transcriber = open_transcriber(args.engine, args.model, store_parser(runtime).index)
        chat = terminal.Chat(assistant.handle, who, channel="voice")
        screen = terminal.TerminalChannel(sys.stdout)
        last: Reply | None = None
        failed = 0
        for path, heard in transcripts(transcriber, args.files, "crm voice"):
            if heard is None:
                failed += 1
                continue
            sent, reply = chat.say(heard)
            if args.jsonl:
                turn: dict[str, Any] = {"file": str(path), "transcript": heard}
                turn.update(terminal.turn_json(heard, reply, sent))
                print(json.dumps(turn, ensure_ascii=False, default=str), flush=True)
            else:
                print(f"> {heard or '(nothing recognised)'}")
                screen.send_reply(who, reply)
            last = reply
        if args.speak and last is not None:
            VoiceChannel(args.speak).send_reply(who, last)
        return 1 if failed else 0
    finally:
        runtime.close()
