"""PocketSphinx with an n-gram model of the CRM's commands: the default engine, nothing to download.

The model (intents/speech.py) is written as ARPA text with a dictionary of just its words: the
model's own pronunciations, espeak-ng's for the names the model lacks, and espeak-ng's British reading
of every word as one more alternative. Both are cached in a folder named by the model's hash, so they
are rebuilt only when templates or names change. A transcript the parser reads as no command has the
decoder's next hypotheses re-read (adapters/voice/nbest.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pocketsphinx import Config, Decoder, get_model_path

from adapters.voice.nbest import Reader
from adapters.voice.pronounce import ESPEAK_VOICE, espeak_pronunciations, possessive, read_dictionary
from intents.names import NameIndex
from intents.speech import build_corpus, speech_hash, spoken_name_words

log = logging.getLogger(__name__)
MODEL = Path(get_model_path()) / "en-us"  # the model the pocketsphinx wheel ships
LM_FILE = "commands.arpa"
DICT_FILE = "words.dict"
GUESSED_FILE = "pronunciations.json"  # beside the model folders, shared by them
ACCENTS = ("en-gb",)  # espeak-ng voices whose pronunciation of every word is one more alternative


def model_dictionary() -> dict[str, tuple[str, ...]]:
    return read_dictionary(MODEL / "cmudict-en-us.dict")


def dictionary_lines(words: set[str], pronounce: Callable[[str], Sequence[str]]) -> list[str]:
    """CMU-format lines, alternative pronunciations numbered word(2), word(3)..."""
    lines = []
    for word in sorted(words):
        lines += [f"{word if i == 0 else f'{word}({i + 1})'} {p}" for i, p in enumerate(pronounce(word))]
    return lines


def guessed_pronunciations(words: set[str], path: Path, voice: str = ESPEAK_VOICE) -> dict[str, str]:
    """espeak-ng's pronunciations of `words` (in `voice`), kept in `path` across builds: a store that
    gains one name has one new word to pronounce, not ten thousand."""
    known: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    new = espeak_pronunciations(words - known.keys(), voice)
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_text(json.dumps({**known, **new}, sort_keys=True), "utf-8")
        os.replace(staging, path)
    return {w: phones for w, phones in {**known, **new}.items() if w in words}


def build_files(names: NameIndex, cache: Path) -> Path:
    """The folder holding the language model and dictionary for `names`, built if its hash is new."""
    folder = cache / f"pocketsphinx-{speech_hash(names)}"
    if (folder / LM_FILE).exists():
        return folder
    dictionary = model_dictionary()
    guessed = guessed_pronunciations(spoken_name_words(names) - dictionary.keys(), cache / GUESSED_FILE)

    def pronounce(word: str) -> Sequence[str]:
        """The dictionary's, else espeak-ng's; a name's possessive ("bello's") from the name's own."""
        found = dictionary.get(word) or ((guessed[word],) if word in guessed else ())
        if not found and word.endswith("'s") and len(word) > 2:
            return tuple(possessive(phones) for phones in pronounce(word[:-2]))
        return found

    corpus = build_corpus(names, lambda word: bool(pronounce(word)))
    if corpus.dropped:
        log.info("voice model: %d words without a pronunciation left out", len(corpus.dropped))
    accents = [
        guessed_pronunciations(corpus.words(), cache / f"{accent}-{GUESSED_FILE}", accent)
        for accent in ACCENTS
    ]

    def with_accents(word: str) -> Sequence[str]:
        """The word's pronunciations, then each accent's when it differs: a British speaker's
        "quarter" (K W AO T AH) is as much the word as the dictionary's (K W AO R T ER)."""
        out = list(pronounce(word))
        return out + [p for p in dict.fromkeys(a[word] for a in accents if word in a) if p not in out]

    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
    (staging / DICT_FILE).write_text(
        "\n".join(dictionary_lines(corpus.words(), with_accents)) + "\n", "utf-8"
    )
    (staging / LM_FILE).write_text(corpus.arpa(), encoding="utf-8")
    try:
        os.rename(staging, folder)
    except OSError:  # another process built the same model first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


@dataclass
class SphinxTranscriber:
    decoder: Decoder
    rate: int = 16000
    reader: Reader | None = None  # re-reads a weak transcript's alternatives (adapters/voice/nbest.py)

    @classmethod
    def build(cls, names: NameIndex, cache: Path) -> SphinxTranscriber:
        folder = build_files(names, cache)
        config = Config(
            hmm=str(MODEL / "en-us"),
            dict=str(folder / DICT_FILE),
            lm=str(folder / LM_FILE),
            loglevel="FATAL",
        )
        return cls(Decoder(config), reader=Reader.on(names))

    def transcribe(self, pcm: np.ndarray) -> str:
        """The whole utterance at once: its own mean normalises the features (better than live)."""
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        return self._end()

    def stream(self) -> SphinxStream:
        self.decoder.start_utt()
        return SphinxStream(self)

    def _end(self) -> str:
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        best = hypothesis.hypstr if hypothesis is not None else ""
        if self.reader is None:
            return best
        return self.reader.pick(best, (h.hypstr for h in self.decoder.nbest() if h is not None))


@dataclass
class SphinxStream:
    owner: SphinxTranscriber

    def accept(self, pcm: np.ndarray) -> None:
        self.owner.decoder.process_raw(pcm.tobytes())

    def finish(self) -> str:
        return self.owner._end()
