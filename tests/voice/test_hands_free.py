"""Hands-free voice as a rep in a car uses it, on real audio through PocketSphinx: every write is read
back and saved only on "yes"; `crm voice --mic` cuts utterances out of a live stream and speaks each
reply; a reply's short form is said the way a person would say it."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from spoken_set import AUDIO, NOW_ARGS

from adapters.cli.main import main
from adapters.voice.audio import load_audio, to_pcm
from adapters.voice.mic import RATE, STOP_PHRASES, Endpointer
from adapters.voice.speak import Voice, speak_to_file, synthesize
from adapters.voice.speakable import speakable
from adapters.voice.transcriber import CACHE_ENV
from assistant.runtime import Runtime
from storage.models import Task

REP = "daniel.okafor@northwind.example"
CALL = AUDIO / "c01-v0-clean.opus"  # "log a call with acme corporation follow up next tuesday"
FOLLOW_UP = "Follow up with Acme Corporation"
HEARD_YES = ("yes", "yeah")  # espeak-ng's "yes", as the model may write it: both are a yes


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/voice.sqlite3"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path.parent / "voice-cache"))  # the model is built once
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--db", url, *NOW_ARGS, "demo"]) == 0
    return url


def said(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"{text.replace(' ', '-')}.wav"
    speak_to_file(text, path, Voice())
    return path


def room_noise(seconds: float, level: float = 20.0) -> np.ndarray:
    """A quiet car between the words: hiss at `level` (rms of int16 samples)."""
    return np.random.default_rng(3).normal(0, level, int(seconds * RATE)).astype(np.int16)


def voice_turns(url: str, *args: str) -> list[dict[str, object]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--db", url, *NOW_ARGS, "voice", "--as", REP, "--jsonl", *args]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def follow_ups(url: str) -> int:
    runtime = Runtime.from_settings(url, "UTC", "2026-11-23T09:00")
    try:
        with runtime.sessions() as session:
            return session.query(Task).filter(Task.title == FOLLOW_UP, Task.deleted_at.is_(None)).count()
    finally:
        runtime.close()


def test_a_spoken_call_is_read_back_and_saved_only_on_yes(demo_db: str, tmp_path: Path) -> None:
    first = voice_turns(demo_db, str(CALL))
    assert "Here is what I'll save" in str(first[0]["reply"]) and "Acme Corporation" in str(first[0]["reply"])
    assert follow_ups(demo_db) == 0  # read back: nothing saved yet

    spoken_reply = tmp_path / "reply.ogg"
    second = voice_turns(demo_db, str(said(tmp_path, "yes")), "--speak", str(spoken_reply))
    assert second[0]["transcript"] in HEARD_YES
    assert "Logged a call with Acme Corporation" in str(second[0]["reply"])
    assert follow_ups(demo_db) == 1
    assert soundfile.info(str(spoken_reply)).duration > 1.0  # the confirmation, said aloud


def test_no_to_a_read_back_saves_nothing(demo_db: str, tmp_path: Path) -> None:
    turns = voice_turns(demo_db, str(CALL), str(said(tmp_path, "no")))
    assert "Nothing was changed" in str(turns[1]["reply"])
    assert follow_ups(demo_db) == 0


def test_the_endpointer_finds_each_utterance_in_a_stream_with_pauses() -> None:
    words, rate = synthesize("log a call with hooli", Voice())
    speech = to_pcm(words * 0.5, rate, RATE)
    stream = np.concatenate([room_noise(1.0, 30), speech, room_noise(1.5, 30), speech, room_noise(1.5, 30)])
    endpointer, found, current = Endpointer(), [], 0
    for start in range(0, len(stream), endpointer.frame):
        audio, ended = endpointer.feed(stream[start : start + endpointer.frame])
        current += sum(len(a) for a in audio)
        if ended:
            found.append(current / RATE)
            current = 0
    assert len(found) == 2
    for seconds in found:  # the whole utterance, its pre-roll and the pause that ended it, no more
        assert len(speech) / RATE <= seconds <= len(speech) / RATE + 1.2


@pytest.fixture
def microphone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A microphone that hears the call, a pause, "yes", a pause and "goodbye"; a speaker that keeps
    each reply it is given in `tmp_path/spoken`."""
    parts = [room_noise(1.2), load_audio(CALL, RATE), room_noise(1.2)]
    for text in ("yes", "goodbye"):
        parts += [load_audio(said(tmp_path, text), RATE), room_noise(1.2)]
    stream = tmp_path / "mic.wav"
    soundfile.write(str(stream), np.concatenate(parts), RATE, subtype="PCM_16")
    spoken = tmp_path / "spoken"
    spoken.mkdir()
    monkeypatch.setenv("CRM_MIC_COMMAND", f"sox {stream} -t raw -r 16000 -e signed-integer -b 16 -c 1 -")
    monkeypatch.setenv("CRM_SPEAKER_COMMAND", f"sh -c 'cp \"$0\" {spoken}/reply-$$.wav'")
    return spoken


def test_hands_free_loop_on_the_microphone(demo_db: str, microphone: Path) -> None:
    turns = voice_turns(demo_db, "--mic")
    assert len(turns) == 3 and turns[1]["transcript"] in HEARD_YES and turns[2]["transcript"] in STOP_PHRASES
    assert "Here is what I'll save" in str(turns[0]["reply"])
    assert "Logged a call with Acme Corporation" in str(turns[1]["reply"])
    assert follow_ups(demo_db) == 1
    assert len(list(microphone.glob("reply-*.wav"))) == 2  # the read-back and the confirmation, aloud


def test_voice_needs_recordings_or_the_microphone(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", demo_db, *NOW_ARGS, "voice", "--as", REP]) != 0
    assert "--mic" in capsys.readouterr().err


@pytest.mark.parametrize(
    "shown,said_aloud",
    [
        ("Follow-up task: Tue 1 Dec.", "Follow-up task: Tuesday 1 December."),
        (
            "Logged a call with Acme Corporation (today 09:00).",
            "Logged a call with Acme Corporation, today 9 AM.",
        ),
        ("Created the deal Hooli deal: $20,000, lead.", "Created the deal Hooli deal: 20,000 dollars, lead."),
        ("Pipeline: $1.2M, avg 50k", "Pipeline: 1.2 million dollars, avg 50 thousand"),
        ("Meeting w/ Sun Microsystems at 14:30", "Meeting with Sun Microsystems at 2:30 PM"),
    ],
)
def test_replies_are_said_as_a_person_says_them(shown: str, said_aloud: str) -> None:
    assert speakable(shown) == said_aloud
