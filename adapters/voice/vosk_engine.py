"""Vosk (Kaldi) with a model folder the user downloaded once (README: Voice).

Vosk as it really behaves: one `Model` per process and one recognizer per utterance; grammar mode only
with models that carry Gr.fst and HCLr.fst (the small, "lgraph" ones), and there the grammar is the
words and name phrases of the same corpus PocketSphinx is built from. Vosk drops a grammar word its
model lacks, so the grammar keeps only the words of the model's own word list: graph/words.txt where
the model has one, else the symbol table inside Gr.fst (some packaged models ship no words.txt). The
rest are left out and counted in the log. A grammar forces out-of-grammar speech onto its nearest
words, so the text parser re-checks whatever comes back.
"""

from __future__ import annotations

import json
import logging
import mmap
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from adapters.voice.transcriber import VoiceError
from intents.names import NameIndex
from intents.speech import build_corpus, name_phrases

log = logging.getLogger(__name__)
UNKNOWN_WORDS = ("[unk]", "<UNK>", "<unk>")  # how models spell "some word not in the grammar"
FST_MAGIC = 2125659606  # OpenFst's header
SYMBOLS_MAGIC = 2125658996  # OpenFst's symbol table
HAS_INPUT_SYMBOLS, HAS_OUTPUT_SYMBOLS = 1, 2


@dataclass(frozen=True)
class Word:
    """One recognised word, its start and end in seconds from the start of the utterance, and Vosk's
    confidence (0-1)."""

    word: str
    start: float
    end: float
    conf: float


@cache
def _model(folder: str) -> Any:
    from vosk import Model, SetLogLevel

    SetLogLevel(-1)
    return Model(folder)


def fst_symbols(path: Path) -> set[str] | None:
    """The words of an OpenFst file's symbol table (its input one, else its output one); None when the
    file carries none."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = 0

        def number(form: str) -> int:
            nonlocal at
            (value,) = struct.unpack_from(form, data, at)
            at += struct.calcsize(form)
            return int(value)

        def string() -> bytes:
            nonlocal at
            size = number("<i")
            at += size
            return bytes(data[at - size : at])

        if number("<i") != FST_MAGIC:
            raise VoiceError(f"{path} is not an OpenFst file")
        string(), string()  # the FST's type and its arcs'
        number("<i")  # version
        flags = number("<i")
        at += 8 * 4  # properties, start state, number of states, number of arcs
        if not flags & (HAS_INPUT_SYMBOLS | HAS_OUTPUT_SYMBOLS):
            return None
        if number("<i") != SYMBOLS_MAGIC:
            raise VoiceError(f"{path}: unreadable symbol table")
        string()  # the table's name
        number("<q")  # the next free key
        words = set()
        for _ in range(number("<q")):
            words.add(string().decode("utf-8"))
            at += 8  # its key
        return words


@cache
def _vocabulary(folder: str) -> frozenset[str] | None:
    graph = Path(folder) / "graph"
    if not ((graph / "Gr.fst").exists() and (graph / "HCLr.fst").exists()):
        return None
    if (graph / "words.txt").exists():
        lines = (graph / "words.txt").read_text("utf-8").splitlines()
        return frozenset(line.split()[0] for line in lines if line.strip())
    words = fst_symbols(graph / "Gr.fst")
    if words is None:
        log.warning("vosk: %s has Gr.fst without a word list; grammar mode is off", folder)
        return None
    return frozenset(words)


def model_vocabulary(folder: Path) -> frozenset[str] | None:
    """The words a grammar-capable model knows (graph/words.txt, else Gr.fst's symbol table); None for
    a model without Gr.fst/HCLr.fst, which decodes with its own language model."""
    return _vocabulary(str(folder.resolve()))


def unknown_word(vocabulary: frozenset[str]) -> str | None:
    """The model's own word for "something else" (its spelling differs between models)."""
    return next((w for w in UNKNOWN_WORDS if w in vocabulary), None)


def known_phrases(phrases: Iterable[str], vocabulary: frozenset[str]) -> list[str]:
    """The phrases every word of which the model knows, sorted, and the model's unknown-word token."""
    kept = sorted({p for p in phrases if p.split() and set(p.split()) <= vocabulary})
    unknown = unknown_word(vocabulary)
    return [*kept, unknown] if kept and unknown else kept


def grammar_phrases(names: NameIndex, vocabulary: frozenset[str]) -> list[str]:
    """The corpus's words and the store's name phrases that the model can say, and its unknown word."""
    corpus = build_corpus(names, vocabulary.__contains__)
    if corpus.dropped:
        log.warning("vosk grammar: %d words the model does not know left out", len(corpus.dropped))
    phrases = {p for kind in name_phrases(names).values() for p in kind}
    return known_phrases(corpus.words() | phrases, vocabulary)


def check_model_folder(folder: Path) -> frozenset[str] | None:
    """The model's grammar vocabulary (None: no grammar mode), or a VoiceError when `folder` is no Vosk
    model; `crm doctor` asks the same question without loading the model."""
    if not (folder / "am").is_dir() and not (folder / "conf").is_dir():
        raise VoiceError(f"{folder} is not a Vosk model folder (README: Voice says how to get one)")
    return model_vocabulary(folder)


@dataclass
class VoskTranscriber:
    model: Any
    grammar: str | None  # a JSON list of phrases, None for the model's own language model
    unknown: str | None = None  # the model's unknown-word token, never part of a transcript
    rate: int = 16000

    @classmethod
    def build(cls, folder: Path, names: NameIndex) -> VoskTranscriber:
        """The model in `folder`, in grammar mode with the CRM's commands and names where it can."""
        vocabulary = cls._check(folder)
        return cls.load(folder, None if vocabulary is None else grammar_phrases(names, vocabulary))

    @classmethod
    def load(cls, folder: Path, phrases: Iterable[str] | None) -> VoskTranscriber:
        """The model in `folder`, restricted to `phrases` (those of its words it knows), or with its
        own language model when `phrases` is None, the model has no grammar mode, or it knows none."""
        vocabulary = cls._check(folder)
        grammar = None
        if phrases is not None and vocabulary is not None:
            known = known_phrases(phrases, vocabulary)
            if known:
                grammar = json.dumps(known, ensure_ascii=False)  # Vosk reads no \u escapes
            else:
                log.warning("vosk: the model knows no word of the grammar; its own language model is used")
        unknown = unknown_word(vocabulary) if vocabulary is not None else None
        return cls(_model(str(folder)), grammar, unknown)

    @staticmethod
    def _check(folder: Path) -> frozenset[str] | None:
        return check_model_folder(folder)

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

    def timed_words(self, pcm: np.ndarray) -> list[Word]:
        """The words said in `pcm`, each with its start, end and confidence."""
        stream = self.stream()
        stream.accept(pcm)
        return stream.finish_words()

    def stream(self) -> VoskStream:
        return VoskStream(self.recognizer(), self.unknown)


@dataclass
class VoskStream:
    recognizer: Any
    unknown: str | None = None
    heard: list[Word] = field(default_factory=list)

    def accept(self, pcm: np.ndarray) -> None:
        if self.recognizer.AcceptWaveform(pcm.tobytes()):  # Vosk ended a phrase at a pause
            self._take(self.recognizer.Result())

    def finish_words(self) -> list[Word]:
        self._take(self.recognizer.FinalResult())
        return self.heard

    def finish(self) -> str:
        return " ".join(w.word for w in self.finish_words())

    def _take(self, result: str) -> None:
        for item in json.loads(result).get("result", []):
            if item["word"] != self.unknown and item["word"] not in UNKNOWN_WORDS:
                self.heard.append(Word(item["word"], item["start"], item["end"], item["conf"]))
