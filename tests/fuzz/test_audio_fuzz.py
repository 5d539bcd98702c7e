"""Recordings that are not what they claim: random bytes, truncated or silent files, the wrong format,
NaN samples, absurd rates, huge files. Each ends in an AudioError with a plain one-line reason (never
another exception), and a file over the size limit is refused by its size, before a byte is read."""

from __future__ import annotations

import io
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.voice import audio
from adapters.voice.audio import MAX_BYTES, AudioError, load_audio, to_pcm

RATE = 16_000
FORMATS = [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_16"), ("OGG", "OPUS"), ("OGG", "VORBIS")]


def recording(seconds: float = 1.0, rate: int = 48_000, fmt: tuple[str, str] = ("WAV", "PCM_16")) -> bytes:
    """A real recording: a 440 Hz tone, in the given container and encoding."""
    t = np.arange(int(seconds * rate)) / rate
    out = io.BytesIO()
    soundfile.write(out, 0.3 * np.sin(2 * np.pi * 440 * t), rate, format=fmt[0], subtype=fmt[1])
    return out.getvalue()


def assert_plain(error: AudioError) -> None:
    message = str(error)
    assert message and "\n" not in message and "Traceback" not in message


def decode(tmp_path: Path, data: bytes, name: str = "note.ogg") -> np.ndarray:
    path = tmp_path / name
    path.write_bytes(data)
    return load_audio(path, RATE)


def test_the_control_a_real_recording_decodes(tmp_path: Path) -> None:
    for fmt in FORMATS:
        pcm = decode(tmp_path, recording(fmt=fmt))
        assert pcm.dtype == np.int16 and abs(len(pcm) - RATE) < RATE // 10, fmt


@budget(60)
@given(data=st.binary(max_size=4_000))
@example(data=b"")
@example(data=b"RIFF\x24\x00\x00\x00WAVEfmt ")  # a WAV header that stops
@example(data=b"OggS" + bytes(100))
@example(data=b"\x89PNG\r\n\x1a\n" + bytes(64))
def test_random_bytes_are_refused_plainly(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(AudioError) as refused:
        decode(tmp_path, data)
    assert_plain(refused.value)


@budget(40)
@given(
    fmt=st.sampled_from(FORMATS), cut=st.floats(0.0, 1.0), flip=st.lists(st.integers(0, 10**6), max_size=20)
)
def test_truncated_or_garbled_recordings_decode_or_are_refused_plainly(
    tmp_path: Path, fmt: tuple[str, str], cut: float, flip: list[int]
) -> None:
    data = bytearray(recording(0.5, fmt=fmt))
    for position in flip:  # bytes garbled in place, the header included
        data[position % len(data)] ^= 0xA5
    try:
        pcm = decode(tmp_path, bytes(data[: int(len(data) * cut)]))
    except AudioError as refused:
        assert_plain(refused)
    else:
        assert pcm.dtype == np.int16 and 0 < len(pcm) <= audio.MAX_SECONDS * RATE


def test_silence_and_a_click_are_refused_as_nothing_said(tmp_path: Path) -> None:
    silent = io.BytesIO()
    soundfile.write(silent, np.zeros(RATE), RATE, format="WAV")
    with pytest.raises(AudioError, match="silent"):
        decode(tmp_path, silent.getvalue(), "silent.wav")
    with pytest.raises(AudioError, match="empty or truncated"):
        decode(tmp_path, recording(0.01), "click.wav")


def test_a_float_recording_with_nan_samples_is_refused_as_damaged(tmp_path: Path) -> None:
    damaged = io.BytesIO()
    samples = np.sin(np.arange(RATE) / 10.0)
    samples[RATE // 2] = np.nan
    soundfile.write(damaged, samples, RATE, format="WAV", subtype="FLOAT")
    with pytest.raises(AudioError, match="damaged"):
        decode(tmp_path, damaged.getvalue(), "damaged.wav")


def test_a_text_file_with_an_audio_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not a recording"):
        decode(tmp_path, b"log a call with acme\n" * 50, "notes.wav")


@budget(60)
@given(
    samples=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=3_000),
    source_rate=st.integers(1, 384_000),
)
@example(samples=[float("nan")] * 4_000, source_rate=RATE)
@example(samples=[0.5, float("inf")] * 2_000, source_rate=RATE)
@example(samples=[], source_rate=RATE)
def test_any_samples_at_any_rate_give_pcm_or_a_plain_refusal(samples: list[float], source_rate: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NaN cast to int16 used to pass with a RuntimeWarning: noise
            pcm = to_pcm(np.array(samples, dtype=np.float32), source_rate, RATE)
    except AudioError as refused:
        assert_plain(refused)
    else:
        assert pcm.dtype == np.int16 and len(pcm) > 0


def test_a_huge_file_is_refused_by_its_size_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as f:  # 2 GB, sparse: a real WAV header, then nothing written
        f.write(recording(0.5))
        f.truncate(2 * 1024**3)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the decoder was asked to read a file over the size limit")

    monkeypatch.setattr(soundfile, "info", never)
    monkeypatch.setattr(soundfile, "read", never)
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match="too big") as refused:
            load_audio(huge, RATE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_plain(refused.value)
    assert peak < 1024**2, f"{peak} bytes allocated to refuse a file by its size"


def test_a_file_just_under_the_limit_is_still_decoded_by_its_header(tmp_path: Path) -> None:
    padded = tmp_path / "padded.wav"
    padded.write_bytes(recording(0.5))
    with padded.open("r+b") as f:  # junk after the data chunk: the header decides what is read
        f.truncate(MAX_BYTES)
    assert len(load_audio(padded, RATE)) == RATE // 2
