"""Voice: PocketSphinx and espeak-ng on real recordings of the spoken test set, the model built from the
templates and names, audio in and out, and `crm parse --audio` / `crm voice`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from spoken_set import AUDIO, NOW, NOW_ARGS, accepted, recordings

from adapters.cli.main import main
from adapters.voice import sphinx as sphinx_engine
from adapters.voice.audio import AudioError, load_audio
from adapters.voice.pronounce import espeak_pronunciations, ipa_to_arpabet, possessive
from adapters.voice.speak import Voice, speak_to_file
from adapters.voice.sphinx import SphinxTranscriber
from adapters.voice.transcriber import VoiceError, cache_dir, open_transcriber
from intents.names import NamedRecord, NameIndex, StaticNames
from intents.parser import Parser
from intents.speech import arpa, build_corpus, say_number, speech_hash, spoken

# said by flite voices, whose speech the en-us model hears best: a log, a question, a task
SAMPLES = ["c01-v0-clean", "c42-v6-clean", "c26-v4-clean"]


@pytest.fixture(scope="module")
def sphinx(parser: Parser) -> SphinxTranscriber:
    transcriber = open_transcriber("pocketsphinx", None, parser.index)
    assert isinstance(transcriber, SphinxTranscriber)
    return transcriber


def test_numbers_and_symbols_are_said_as_words() -> None:
    assert spoken("$50,000") == ["fifty", "thousand"]
    assert spoken("Halvorsen & Berg") == ["halvorsen", "and", "berg"]
    assert spoken("1.2m") == ["one", "point", "two", "m"]
    assert say_number(1042) == ["one", "thousand", "forty", "two"]
    assert say_number(120_000) == ["one", "hundred", "twenty", "thousand"]


def test_names_no_dictionary_has_get_pronunciations() -> None:
    assert ipa_to_arpabet("hˈuːli") == "HH UW L IY"
    guessed = espeak_pronunciations(["initech", "priya", "zorblax"])
    assert set(guessed) == {"initech", "priya", "zorblax"}
    assert guessed["zorblax"].startswith("Z ")


def test_a_possessive_is_said_from_the_name(sphinx: SphinxTranscriber, parser: Parser) -> None:
    assert possessive("D OW") == "D OW Z"
    assert possessive("S M IH TH") == "S M IH TH S"
    assert possessive("L OW P EH Z") == "L OW P EH Z IH Z"
    folder = sphinx_engine.build_files(parser.index, cache_dir())
    said = sphinx_engine.read_dictionary(folder / sphinx_engine.DICT_FILE)
    assert said["bello's"][0] == possessive(said["bello"][0])  # "update aisha bello's title"


def test_a_rebuild_pronounces_only_new_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[set[str]] = []

    def pronounce(words: set[str], voice: str = "en-us") -> dict[str, str]:
        asked.append(set(words))
        return espeak_pronunciations(words, voice)

    monkeypatch.setattr(sphinx_engine, "espeak_pronunciations", pronounce)
    kept = tmp_path / "pronunciations.json"
    sphinx_engine.guessed_pronunciations({"hooli", "initech"}, kept)
    again = sphinx_engine.guessed_pronunciations({"hooli", "initech", "zorblax"}, kept)
    assert asked == [{"hooli", "initech"}, {"zorblax"}]
    assert set(again) == {"hooli", "initech", "zorblax"}


def test_the_model_holds_every_name_and_is_rebuilt_only_when_names_change() -> None:
    names = StaticNames([NamedRecord("account", "Zorblax Ltd"), NamedRecord("contact", "Priya Raman")])
    index = NameIndex.build(names)
    corpus = build_corpus(index, lambda word: True)
    words = corpus.words()
    assert {"zorblax", "priya", "raman", "log", "call"} <= words
    assert speech_hash(index) == speech_hash(NameIndex.build(names))
    other = NameIndex.build(StaticNames([NamedRecord("account", "Zorblax Ltd")]))
    assert speech_hash(index) != speech_hash(other)
    said_without = build_corpus(index, lambda word: word != "zorblax")
    assert "zorblax" in said_without.dropped and "zorblax" not in said_without.words()


def test_the_ngram_model_gives_each_history_a_whole_distribution() -> None:
    text = arpa([["log", "a", "call"], ["log", "a", "meeting"], ["a", "call"]])
    unigrams = [line.split("\t") for line in text.split("\\1-grams:")[1].split("\\2-grams:")[0].split("\n")]
    total = sum(10 ** float(parts[0]) for parts in unigrams if len(parts) > 1 and parts[1] != "<s>")
    assert total == pytest.approx(1.0, abs=1e-4)  # written to five decimals
    assert "ngram 3=" in text


def test_every_word_also_has_a_british_pronunciation(sphinx: SphinxTranscriber, parser: Parser) -> None:
    folder = sphinx_engine.build_files(parser.index, cache_dir())  # built already: the module's model
    said = sphinx_engine.read_dictionary(folder / sphinx_engine.DICT_FILE)
    assert "K W AO R T ER" in said["quarter"]
    assert any("R" not in phones.split() for phones in said["quarter"])  # "quarter" without its r


@pytest.mark.parametrize("name", SAMPLES)
def test_pocketsphinx_hears_recorded_commands(sphinx: SphinxTranscriber, parser: Parser, name: str) -> None:
    recording = next(r for r in recordings("clean") if r.path.stem == name)
    pcm = load_audio(recording.path, sphinx.rate)
    heard = sphinx.transcribe(pcm)
    assert accepted(parser, recording, heard), heard


# answers to a read-back, said by espeak-ng (a voice the en-us model hears worse than flite's)
ANSWERS = [
    ("yes", Voice(voice="en-us", speed=140), "affirm"),
    ("no", Voice(voice="en-us", speed=140), "deny"),
    ("cancel", Voice(voice="en-us", speed=140), "cancel"),
    ("stop listening", Voice(voice="en-us", speed=140), "stop listening"),
    ("actually next friday", Voice(voice="en-us+f3", speed=150, pitch=55), "actually next friday"),
    ("no it was a meeting", Voice(voice="en-us+f3", speed=150, pitch=55), "no was meeting"),
]


@pytest.mark.parametrize(("said", "voice", "heard"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_pocketsphinx_hears_the_answers_to_a_read_back(
    sphinx: SphinxTranscriber, parser: Parser, tmp_path: Path, said: str, voice: Voice, heard: str
) -> None:
    """`heard` is the intent the parser reads in the transcript (a "yeah" for a "yes" will do), or words
    it holds (the dialogue reads a correction's "no" and its values, not every word)."""
    speak_to_file(said, tmp_path / "answer.wav", voice)
    pcm = load_audio(tmp_path / "answer.wav", sphinx.rate)
    text = sphinx.transcribe(np.concatenate([np.zeros(4800, pcm.dtype), pcm, np.zeros(4800, pcm.dtype)]))
    assert heard == parser.parse(text, NOW).intent or set(heard.split()) <= set(text.split()), text


def test_any_rate_and_channel_count_reads_the_same(sphinx: SphinxTranscriber, tmp_path: Path) -> None:
    source = AUDIO / f"{SAMPLES[1]}.opus"
    data, rate = soundfile.read(str(source), dtype="float32")
    stereo = tmp_path / "stereo.wav"
    resampled = np.interp(np.arange(0, len(data), rate / 44100), np.arange(len(data)), data)
    soundfile.write(str(stereo), np.stack([resampled, resampled * 0.5], axis=1), 44100)
    assert sphinx.transcribe(load_audio(stereo, 16000)) == sphinx.transcribe(load_audio(source, 16000))


def test_a_stream_hears_what_the_whole_recording_says(sphinx: SphinxTranscriber) -> None:
    pcm = load_audio(AUDIO / f"{SAMPLES[1]}.opus", sphinx.rate)
    stream = sphinx.stream()
    for start in range(0, len(pcm), 1600):
        stream.accept(pcm[start : start + 1600])
    assert stream.finish() == "what's going on with globex"


def test_bad_audio_gets_a_plain_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not audio")
    soundfile.write(str(tmp_path / "silent.wav"), np.zeros(16000, dtype=np.float32), 16000)
    soundfile.write(str(tmp_path / "short.wav"), np.ones(100, dtype=np.float32) * 0.5, 16000)
    reasons = {
        "missing.wav": "no such file",
        "notes.txt": "not a recording",
        "silent.wav": "silent",
        "short.wav": "truncated",
    }
    for name, reason in reasons.items():
        with pytest.raises(AudioError, match=reason):
            load_audio(tmp_path / name, 16000)


def test_vosk_without_a_model_says_where_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_VOSK_MODEL", raising=False)
    with pytest.raises(VoiceError, match="--model DIR or CRM_VOSK_MODEL"):
        open_transcriber("vosk", None, NameIndex())


@pytest.mark.parametrize("suffix", [".wav", ".ogg"])
def test_espeak_speaks_a_reply_to_a_file(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"reply{suffix}"
    speak_to_file("Logged a call with Hooli. Follow up on Tuesday.", out, Voice())
    info = soundfile.info(str(out))
    assert info.channels == 1 and info.duration > 1.0
    assert load_audio(out, 16000).size > 16000


def test_parse_audio_prints_one_parse_per_file_with_its_transcript(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(AUDIO / f"{SAMPLES[0]}.opus"), str(AUDIO / f"{SAMPLES[1]}.opus")]
    assert main(["--db", demo_db, *NOW_ARGS, "parse", "--audio", *files]) == 0
    first, second = map(json.loads, capsys.readouterr().out.splitlines())
    assert first["intent"] == "log_activity" and first["slots"]["account"] == "Acme Corporation"
    assert first["transcript"] == first["text"]
    assert second["slots"] == {"account": "Globex Inc"}


def test_voice_turns_go_through_the_assistant_and_the_last_is_spoken(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reply.wav"
    files = [str(AUDIO / f"{SAMPLES[1]}.opus"), str(tmp_path / "missing.ogg")]
    speaker = ["--as", "daniel.okafor@northwind.example"]
    code = main(["--db", demo_db, *NOW_ARGS, "voice", *speaker, "--jsonl", "--speak", str(out), *files])
    captured = capsys.readouterr()
    assert code == 1 and "missing.ogg: no such file" in captured.err
    (turn,) = map(json.loads, captured.out.splitlines())
    assert turn["transcript"] == "what's going on with globex"
    assert turn["intent"] == "account_summary" and "Globex" in turn["reply"]
    assert soundfile.info(str(out)).duration > 0.5
