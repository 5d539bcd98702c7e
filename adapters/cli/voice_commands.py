"""`crm voice` (spoken turns from recordings) and what `crm parse --audio` shares with it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.cli.common import CliError, common_options, runtime_from
from adapters.voice.mic import MIC_ENV, SPEAKER_ENV, STOP_PHRASES
from adapters.voice.transcriber import ENGINE_ENV, ENGINES, VOSK_MODEL_ENV, WHISPER_MODEL_ENV

if TYPE_CHECKING:
    from adapters.terminal import Chat
    from adapters.voice.transcriber import Transcriber
    from assistant.messages import Reply

USER_ENV = "CRM_USER"


def engine_options() -> argparse.ArgumentParser:
    """--engine and --model, for every command that listens."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--engine",
        choices=ENGINES,
        help="speech-to-text engine: pocketsphinx (commands; the default), whisper (free text), vosk (a model"
        " you download), or pocketsphinx+whisper / vosk+whisper (Whisper when the first hears no command)"
        f" (else {ENGINE_ENV}, else pocketsphinx)",
    )
    parent.add_argument(
        "--model",
        metavar="DIR",
        help=f"the engine's model folder: Vosk's for vosk and vosk+whisper (else {VOSK_MODEL_ENV}); Whisper's"
        f" for whisper and pocketsphinx+whisper (else {WHISPER_MODEL_ENV}, else the bundled tiny.en)",
    )
    return parent


def register(commands: Any) -> None:
    voice = commands.add_parser(
        "voice",
        parents=[common_options(), engine_options()],
        help="spoken turns from recordings (WAV or OGG/Opus)",
        description="Each recording is one spoken turn of one conversation: transcript, parse, reply.",
    )
    voice.add_argument("files", nargs="*", type=Path, metavar="FILE")
    voice.add_argument(
        "--mic",
        action="store_true",
        help=f"hands-free: listen on the default microphone (sox's rec, else {MIC_ENV}) and speak each reply"
        f" (sox's play, else {SPEAKER_ENV}); say 'goodbye' or press Ctrl-C to end",
    )
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
    from adapters.voice.transcriber import open_transcriber
    from assistant.engine import Assistant
    from assistant.nlu import store_parser

    if bool(args.files) == args.mic:
        raise CliError("give recordings (crm voice FILE...) or --mic, not both")
    runtime = runtime_from(args)
    try:
        assistant = Assistant(runtime)
        who = args.user or os.environ.get(USER_ENV) or assistant.default_staff_email()
        if not who:
            raise CliError("say who you are: crm voice --as EMAIL FILE...")
        transcriber = open_transcriber(args.engine, args.model, store_parser(runtime).index)
        spoken = Spoken(terminal.Chat(assistant.handle, who, channel="voice", spoken=True), args.jsonl)
        if args.mic:
            return _listen(spoken, transcriber)
        failed = spoken.files(transcriber, args.files)
        if args.speak and spoken.last is not None:
            VoiceChannel(args.speak).send_reply(who, spoken.last)
        return 1 if failed else 0
    finally:
        runtime.close()


@dataclass
class Spoken:
    """One speaker's turns, from recordings or the microphone, shown as `crm chat` shows them."""

    chat: Chat
    jsonl: bool
    last: Reply | None = None

    def turn(self, heard: str, source: str) -> Reply:
        from adapters import terminal

        sent, reply = self.chat.say(heard)
        if self.jsonl:
            turn: dict[str, Any] = {"file": source, "transcript": heard}
            turn.update(terminal.turn_json(heard, reply, sent))
            print(json.dumps(turn, ensure_ascii=False, default=str), flush=True)
        else:
            print(f"> {heard or '(nothing recognised)'}")
            terminal.TerminalChannel(sys.stdout).send_reply(self.chat.sender, reply)
        self.last = reply
        return reply

    def files(self, transcriber: Transcriber, paths: list[Path]) -> int:
        """Each recording as the next turn; returns how many were no usable audio."""
        from adapters.voice.transcriber import transcripts

        failed = 0
        for path, heard in transcripts(transcriber, paths, "crm voice"):
            if heard is None:
                failed += 1
            else:
                self.turn(heard, str(path))
        return failed


def _listen(spoken: Spoken, transcriber: Transcriber) -> int:
    """The hands-free loop: each utterance a turn, each reply spoken, until 'goodbye'."""
    from adapters.voice.channel import VoiceChannel
    from adapters.voice.mic import Microphone, play, reply_file, utterances

    microphone = Microphone()
    speaker = VoiceChannel(reply_file())
    print("Listening. Say 'goodbye' or press Ctrl-C to end.", file=sys.stderr, flush=True)
    try:
        for heard in utterances(microphone.frames(), transcriber):
            if not heard:
                continue  # noise, or words the recogniser could not place: nothing to answer
            reply = spoken.turn(heard, "mic")
            if heard.strip().lower() in STOP_PHRASES:
                break
            speaker.send_reply(spoken.chat.sender, reply)
            play(speaker.out, microphone)
    except KeyboardInterrupt:
        pass
    finally:
        speaker.out.unlink(missing_ok=True)
    return 0
