"""`make bench-voice`: the speech engines on the spoken test set, against a fresh demo store.

Per engine (PocketSphinx, Whisper and PocketSphinx with Whisper as its fallback; Vosk and Vosk with
Whisper when CRM_VOSK_MODEL names a model; or those --engines names): commands accepted (intent and
every slot right) clean, at 20 dB and at 10 dB SNR, and for a fallback how often its second engine
ran; the real-time factor; the latency from the end of a ~3-second command's audio to the assistant's
reply (the audio before it was decoded while it was heard, as a live stream is); and the build time
and RTF with 10,000 more names in the store.
A benchmark: it measures and fails nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import soundfile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from spoken_set import NOW_ARGS, Recording, accepted, recordings  # noqa: E402

from adapters.cli.main import main as crm  # noqa: E402
from adapters.voice.audio import load_audio  # noqa: E402
from adapters.voice.channel import VoiceChannel  # noqa: E402
from adapters.voice.fallback import FallbackTranscriber  # noqa: E402
from adapters.voice.transcriber import (  # noqa: E402
    CACHE_ENV,
    ENGINES,
    VOSK_MODEL_ENV,
    Transcriber,
    open_transcriber,
)
from assistant.engine import Assistant  # noqa: E402
from assistant.messages import Message  # noqa: E402
from assistant.nlu import store_parser  # noqa: E402
from assistant.runtime import Runtime  # noqa: E402
from intents.names import NamedRecord, NameIndex, StaticNames  # noqa: E402
from intents.parser import Parser  # noqa: E402
from storage.synthetic.names import words as name_lists  # noqa: E402

SPEAKER = "daniel.okafor@northwind.example"  # a rep of the demo store
CHUNK_SECONDS = 0.1
NEW_NAME = NamedRecord("account", "Quorvath Tooling")  # words no synthetic name has
SUFFIXES = ["", "", " Systems", " Labs", " Group", " Foods", " Partners"]
DEFAULT = "pocketsphinx,whisper,pocketsphinx+whisper"


@contextlib.contextmanager
def demo_runtime() -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        with contextlib.redirect_stdout(io.StringIO()):
            crm(["--db", url, *NOW_ARGS, "demo"])
        runtime = Runtime.from_settings(url, "UTC", "2026-11-23T09:00")
        try:
            yield runtime
        finally:
            runtime.close()


def accepted_share(parser: Parser, transcriber: Transcriber, items: list[Recording]) -> tuple[float, float]:
    """(share accepted, real-time factor) over `items`."""
    right, audio, decode = 0, 0.0, 0.0
    if isinstance(transcriber, FallbackTranscriber):
        transcriber.second_runs = 0
    for item in items:
        pcm = load_audio(item.path, transcriber.rate)
        started = time.perf_counter()
        text = transcriber.transcribe(pcm)
        decode += time.perf_counter() - started
        audio += len(pcm) / transcriber.rate
        right += accepted(parser, item, text)
    return right / len(items), decode / audio


def reply_latencies(transcriber: Transcriber, assistant: Assistant, items: list[Recording]) -> list[float]:
    """Seconds from the last audio of each command to the reply ready to be spoken."""
    out = []
    speaker = VoiceChannel(Path(os.devnull))
    step = int(CHUNK_SECONDS * transcriber.rate)
    for item in items:
        pcm = load_audio(item.path, transcriber.rate)
        stream = transcriber.stream()
        last = (len(pcm) - 1) // step * step  # the start of the last piece
        for start in range(0, last, step):
            stream.accept(pcm[start : start + step])  # heard while it was said
        started = time.perf_counter()
        stream.accept(pcm[last:])
        text = stream.finish()
        reply = assistant.handle(Message("voice", SPEAKER, text, sender_is_email=True))
        speaker.render(reply)  # the words to synthesise (synthesis itself not counted)
        out.append(time.perf_counter() - started)
    return out


def synthetic_names(count: int, seed: int = 7) -> list[NamedRecord]:
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < count:
        word = "".join(rng.choice(name_lists("syllables")) for _ in range(rng.randint(2, 3))).capitalize()
        names.add(word + rng.choice(SUFFIXES))
    return [NamedRecord("account", n) for n in sorted(names)]


def scale(engine: str, parser: Parser, extra: int, items: list[Recording]) -> str:
    """Build time (cold, then after one more name) and RTF with `extra` more names in the store."""
    stored = sorted({c.record for candidates in parser.index.phrases.values() for c in candidates}, key=str)
    seconds = []
    for new in ([], [NEW_NAME]):  # the second build is the one a new record costs
        names = StaticNames([*stored, *synthetic_names(extra), *new], parser.index.articles)
        index = NameIndex.build(names, parser.index.common_words)
        started = time.perf_counter()
        transcriber = open_transcriber(engine, None, index)
        seconds.append(time.perf_counter() - started)
    share, rtf = accepted_share(Parser(index, parser.classifier), transcriber, items)
    return (
        f"  with {extra:,} more names: built in {seconds[0]:.1f} s (again after one more name: "
        f"{seconds[1]:.1f} s), RTF {rtf:.3f}, accepted {share:.1%} clean (a quarter of the set)"
    )


def bench(engine: str, runtime: Runtime, extra: int, verbose: bool) -> None:
    parser = store_parser(runtime)
    started = time.perf_counter()
    transcriber = open_transcriber(engine, None, parser.index)
    print(f"== {engine} (model built in {time.perf_counter() - started:.1f} s)")
    rtfs = []
    for condition in ("clean", "snr20", "snr10"):
        items = recordings(condition)
        share, rtf = accepted_share(parser, transcriber, items)
        rtfs.append(rtf)
        second = ""
        if isinstance(transcriber, FallbackTranscriber):
            second = f"   (second engine ran on {transcriber.second_runs})"
        print(
            f"  accepted {condition:>5}: {share:6.1%} of {len(items)} "
            f"({round(share * len(items))})   RTF {rtf:.3f}{second}"
        )
        if verbose:
            for item in items:
                text = transcriber.transcribe(load_audio(item.path, transcriber.rate))
                if not accepted(parser, item, text):
                    print(f"    {item.path.name}: {item.text!r} -> {text!r}")
    print(f"  real-time factor: {statistics.mean(rtfs):.3f}")
    three = [r for r in recordings("clean") if 2.5 <= _seconds(r) <= 3.5]
    latencies = sorted(reply_latencies(transcriber, Assistant(runtime), three))
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(
        f"  end of speech to reply ({len(three)} commands of 2.5-3.5 s): "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    if extra:
        print(scale(engine, parser, extra, recordings("clean")[::4]))


def _seconds(item: Recording) -> float:
    return float(soundfile.info(str(item.path)).duration)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--names", type=int, default=10_000, help="extra names for the scale run (0: none)")
    options.add_argument("--verbose", action="store_true", help="print each command not accepted")
    options.add_argument("--engines", help=f"comma-separated, of {', '.join(ENGINES)} (default: {DEFAULT})")
    args = options.parse_args()
    engines = args.engines.split(",") if args.engines else DEFAULT.split(",")
    if not args.engines and os.environ.get(VOSK_MODEL_ENV):
        engines += ["vosk", "vosk+whisper"]
    with tempfile.TemporaryDirectory() as cache:
        os.environ[CACHE_ENV] = cache  # a cold build, timed
        for engine in engines:
            with demo_runtime() as runtime:
                bench(engine, runtime, args.names, args.verbose)


if __name__ == "__main__":
    main()
