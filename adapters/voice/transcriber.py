"""One interface for every speech-to-text engine, chosen by --engine or CRM_ASR_ENGINE.

An engine is built on the store's names (the same `NameIndex` the text parser reads) and turns mono
16-bit samples into words. Whatever it returns, the text parser reads next: no engine's confidence is
trusted on its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from platformdirs import user_cache_dir

from adapters.voice.audio import AudioError, load_audio
from intents.names import NameIndex

ENGINE_ENV = "CRM_ASR_ENGINE"
VOSK_MODEL_ENV = "CRM_VOSK_MODEL"
WHISPER_MODEL_ENV = "CRM_WHISPER_MODEL"  # another CTranslate2 Whisper model folder than the bundled tiny.en
CACHE_ENV = "CRM_VOICE_CACHE"
# a+b: engine a, and Whisper when a's transcript is no command (adapters/voice/fallback.py)
ENGINES = ("pocketsphinx", "vosk", "whisper", "pocketsphinx+whisper", "vosk+whisper")
DEFAULT_ENGINE = "pocketsphinx"


class VoiceError(RuntimeError):
    """A voice setting or model that cannot be used; the message says what to do."""


class Stream(Protocol):
    """One utterance decoded as it is heard: most of the work is done before the speaker stops."""

    def accept(self, pcm: np.ndarray) -> None: ...

    def finish(self) -> str: ...


class Transcriber(Protocol):
    rate: int  # the sample rate it decodes

    def transcribe(self, pcm: np.ndarray) -> str:
        """The words said in int16 mono samples at `rate`; "" when nothing was recognised."""
        ...

    def stream(self) -> Stream:
        """A new utterance, fed piece by piece (one stream at a time per transcriber)."""
        ...


@dataclass(frozen=True)
class Transcript:
    text: str
    audio_seconds: float
    decode_seconds: float  # transcription alone, the file read and resampled before


def transcribe_file(transcriber: Transcriber, path: Path) -> Transcript:
    pcm = load_audio(path, transcriber.rate)
    started = time.perf_counter()
    text = transcriber.transcribe(pcm)
    return Transcript(text, len(pcm) / transcriber.rate, time.perf_counter() - started)


def transcripts(
    transcriber: Transcriber, paths: Iterable[Path], command: str
) -> Iterator[tuple[Path, str | None]]:
    """Each recording with what was heard in it; None for a file that is no usable audio, whose reason
    is printed as `command: reason`, so that a batch goes on past it."""
    for path in paths:
        try:
            yield path, transcribe_file(transcriber, path).text
        except AudioError as error:
            print(f"{command}: {error}", file=sys.stderr)
            yield path, None


def cache_dir() -> Path:
    """Where built grammars live, one folder per hash of templates and names."""
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("crm-assistant", appauthor=False)) / "voice"


def open_transcriber(engine: str | None, model: str | None, names: NameIndex) -> Transcriber:
    """The engine asked for (else CRM_ASR_ENGINE, else PocketSphinx), biased to `names`. `model` is
    the folder of the first engine named that takes one: Vosk's in "vosk" and "vosk+whisper",
    Whisper's in "whisper" and "pocketsphinx+whisper"."""
    chosen = engine or os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE
    first, plus, second = chosen.partition("+")
    if plus and chosen in ENGINES:
        from adapters.voice.fallback import FallbackTranscriber
        from adapters.voice.nbest import Reader

        head = open_transcriber(first, model, names)
        tail = open_transcriber(second, None if first == "vosk" else model, names)
        return FallbackTranscriber(head, tail, Reader.on(names).understood)
    if chosen == "pocketsphinx":
        from adapters.voice.sphinx import SphinxTranscriber

        return SphinxTranscriber.build(names, cache_dir())
    if chosen == "vosk":
        from adapters.voice.vosk_engine import VoskTranscriber

        folder = model or os.environ.get(VOSK_MODEL_ENV)
        if not folder:
            raise VoiceError(
                f"the Vosk engine needs a model folder: --model DIR or {VOSK_MODEL_ENV} (README: Voice)"
            )
        return VoskTranscriber.build(Path(folder), names)
    if chosen == "whisper":
        from adapters.voice.whisper_engine import WhisperTranscriber

        return WhisperTranscriber.build(names, model)
    raise VoiceError(f"unknown speech engine {chosen!r}: one of {', '.join(ENGINES)}")
