"""Recordings in: WAV, OGG/Opus, FLAC... at any rate and channel count, as mono 16-bit at the rate an
engine wants. Bad audio (not audio, empty, silent, damaged, too long, too big) raises AudioError with a
plain reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

MAX_SECONDS = 60.0  # a spoken command; anything longer is not one
SILENT_PEAK = 1e-3  # below this (of full scale) nothing was said
MIN_SECONDS = 0.1
# 60 s at 96 kHz, stereo, 32-bit float is 46 MB; a command's recording is never bigger than this, and
# a bigger file is refused by its size before the decoder reads a byte of it
MAX_BYTES = 64 * 1024 * 1024


class AudioError(ValueError):
    pass


def load_audio(path: Path, rate: int) -> np.ndarray:
    """The recording as int16 mono samples at `rate`."""
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise AudioError(
            f"{path}: {size / 1024**2:,.0f} MB is too big for a spoken command "
            f"(at most {MAX_BYTES // 1024**2} MB)"
        )
    try:
        info = soundfile.info(str(path))
        if info.duration > MAX_SECONDS:
            raise AudioError(
                f"{path}: {info.duration:.0f} s is too long for a command (at most {MAX_SECONDS:.0f} s)"
            )
        data, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as error:
        raise AudioError(f"{path}: not a recording this can read ({error.error_string})") from None
    return to_pcm(data.mean(axis=1), source_rate, rate, str(path))


def to_pcm(mono: np.ndarray, source_rate: int, rate: int, where: str = "audio") -> np.ndarray:
    """Float mono samples in [-1, 1] as int16 at `rate`, checked for length and silence."""
    if len(mono) < MIN_SECONDS * source_rate:
        raise AudioError(f"{where}: empty or truncated (under {MIN_SECONDS} s of audio)")
    if not np.isfinite(mono).all():  # a float recording can carry NaN or infinity; int16 of those is noise
        raise AudioError(f"{where}: damaged: some samples are not numbers")
    if float(np.max(np.abs(mono))) < SILENT_PEAK:
        raise AudioError(f"{where}: silent: nothing was said")
    if source_rate != rate:
        mono = soxr.resample(mono, source_rate, rate)
    pcm: np.ndarray = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
    return pcm
