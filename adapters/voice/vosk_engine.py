"""Vosk (Kaldi) with a model folder the user downloaded once (README: Voice).

Vosk as it really behaves: one `Model` per process and one recognizer per utterance; grammar mode only
with models that carry Gr.fst and HCLr.fst (the small, "lgraph" ones), and there the grammar is the
words and name phrases of the same corpus PocketSphinx is built from; words outside the model's
vocabulary would be dropped by Vosk, so they are left out here and counted in the log. A grammar forces
out-of-grammar speech onto its nearest words, so the text parser re-checks whatever comes back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from adapters.voice.transcriber import VoiceError
from intents.names import NameIndex
from intents.speech import build_corpus, name_phrases

log = logging.getLogger(__name__)
UNKNOWN = "[unk]"


@cache
def _model(folder: str) -> Any:
    from vosk import Model, SetLogLevel

    SetLogLevel(-1)
    return Model(folder)


def model_vocabulary(folder: Path) -> set[str] | None:
    """The words of a grammar-capable model (graph/words.txt), or None when it has no Gr.fst/HCLr.fst."""
    graph = folder / "graph"
    if not ((graph / "Gr.fst").exists() and (graph / "HCLr.fst").exists()):
        return None
    lines = (graph / "words.txt").read_text("utf-8").splitlines()
    return {line.split()[0] for line in lines if line.strip()}


def grammar_phrases(names: NameIndex, vocabulary: set[str]) -> list[str]:
    """The corpus's words and the store's name phrases that the model can say, and "[unk]"."""
    corpus = build_corpus(names, vocabulary.__contains__)
    phrases = {p for kind in name_phrases(names).values() for p in kind if set(p.split()) <= vocabulary}
    if corpus.dropped:
        log.warning("vosk grammar: %d words the model does not know left out", len(corpus.dropped))
    return [*sorted(corpus.words() | phrases), UNKNOWN]


@dataclass
class VoskTranscriber:
    model: Any
    grammar: str | None  # a JSON list of phrases, None for the model's own language model
    rate: int = 16000

    @classmethod
    def build(cls, folder: Path, names: NameIndex) -> VoskTranscriber:
        if not (folder / "am").is_dir() and not (folder / "conf").is_dir():
            raise VoiceError(f"{folder} is not a Vosk model folder (README: Voice says how to get one)")
        vocabulary = model_vocabulary(folder)
        grammar = None if vocabulary is None else json.dumps(grammar_phrases(names, vocabulary))
        return cls(_model(str(folder)), grammar)

    def recognizer(self) -> Any:
        from vosk import KaldiRecognizer

        if self.grammar is None:
            recognizer = KaldiRecognizer(self.model, self.rate)
        else:
            recognizer = KaldiRecognizer(self.model, self.rate, self.grammar)
        recognizer.SetWords(True)
        return recognizer

    def transcribe(self, pcm: np.ndarray) -> str:
        stream = self.stream()
        stream.accept(pcm)
        return stream.finish()

    def stream(self) -> VoskStream:
        return VoskStream(self.recognizer())


@dataclass
class VoskStream:
    recognizer: Any
    said: str = ""

    def accept(self, pcm: np.ndarray) -> None:
        if self.recognizer.AcceptWaveform(pcm.tobytes()):  # Vosk ended a phrase at a pause
            self.said = f"{self.said} {json.loads(self.recognizer.Result()).get('text', '')}".strip()

    def finish(self) -> str:
        last = json.loads(self.recognizer.FinalResult()).get("text", "")
        return " ".join(w for w in f"{self.said} {last}".split() if w != UNKNOWN)
