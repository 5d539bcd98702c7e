"""Two engines in turn: a grammar engine first, Whisper when the grammar's transcript is no command.

A grammar engine (PocketSphinx, Vosk) fails by hearing nothing or by forcing speech onto the nearest
words of its grammar, which the text parser then reads as nothing it knows. Either way the second
engine (Whisper, free text) hears the same audio, and its transcript is taken if the parser
understands it, or if the first heard nothing at all; otherwise the first's stands (a bare answer
such as a name the grammar heard right is not thrown away for a fluent guess).

"Understood" is the caller's: `open_transcriber` passes the text parser's verdict (an intent, not
out_of_scope: `nbest.Reader.understood`), on the same names, so no part of the assistant is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from adapters.voice.transcriber import Stream, Transcriber


@dataclass
class FallbackTranscriber:
    first: Transcriber
    second: Transcriber
    understood: Callable[[str], bool]
    second_runs: int = 0  # how often the second engine was asked, for the benchmark
    rate: int = field(init=False)

    def __post_init__(self) -> None:
        if self.first.rate != self.second.rate:
            raise ValueError("both engines must decode the same sample rate")
        self.rate = self.first.rate

    def transcribe(self, pcm: np.ndarray) -> str:
        return self.choose(self.first.transcribe(pcm), pcm)

    def stream(self) -> FallbackStream:
        return FallbackStream(self, self.first.stream())

    def choose(self, heard: str, pcm: np.ndarray) -> str:
        """The first engine's transcript if the parser understands it, else the second's if that one is
        understood or the first heard nothing, else the first's."""
        if heard.strip() and self.understood(heard):
            return heard
        self.second_runs += 1
        again = self.second.transcribe(pcm) if len(pcm) else ""
        if not heard.strip() or (again.strip() and self.understood(again)):
            return again
        return heard


@dataclass
class FallbackStream:
    owner: FallbackTranscriber
    first: Stream
    pieces: list[np.ndarray] = field(default_factory=list)  # kept for the second engine

    def accept(self, pcm: np.ndarray) -> None:
        self.first.accept(pcm)
        self.pieces.append(pcm)

    def finish(self) -> str:
        pcm = np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.int16)
        self.pieces = []
        return self.owner.choose(self.first.finish(), pcm)
