"""Speech out: text to a recording by espeak-ng (replies) or flite (more voices for the test set).

Written as WAV, or as OGG/Opus when the file name ends .ogg/.opus (16 kHz mono: speech, and small).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from adapters.voice.audio import to_pcm

OPUS_SUFFIXES = (".ogg", ".opus")
OPUS_RATE = 16000


class SpeakError(RuntimeError):
    pass


@dataclass(frozen=True)
class Voice:
    tts: str = "espeak-ng"  # or flite
    voice: str = "en-us"  # espeak-ng's voice[+variant], or flite's built-in voice
    speed: int = 165  # espeak-ng: words per minute
    pitch: int = 50  # espeak-ng: 0-99
    stretch: float = 1.0  # flite: duration stretch, above 1 slower

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Voice:
        return cls(**data)

    def command(self, wav: Path) -> list[str]:
        if self.tts == "espeak-ng":
            return [self.tts, "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch), "-w", str(wav)]
        if self.tts == "flite":
            stretch = f"duration_stretch={self.stretch}"
            return [self.tts, "-voice", self.voice, "--setf", stretch, "-o", str(wav), "-f", "/dev/stdin"]
        raise SpeakError(f"unknown speech synthesiser {self.tts!r}: espeak-ng or flite")


def synthesize(text: str, voice: Voice = Voice()) -> tuple[np.ndarray, int]:
    """Float mono samples and their rate; the text goes on stdin, so nothing in it reads as an option."""
    if shutil.which(voice.tts) is None:
        raise SpeakError(f"{voice.tts} is not installed: `make install` installs it")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        command = voice.command(wav)
        if voice.tts == "espeak-ng":
            command.append("--stdin")
        subprocess.run(command, input=text, text=True, capture_output=True, check=True)
        data, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(rate)


def write_audio(path: Path, samples: np.ndarray, rate: int) -> None:
    """WAV (16-bit), or OGG/Opus at 16 kHz when `path` ends .ogg or .opus."""
    if path.suffix.lower() in OPUS_SUFFIXES:
        pcm = to_pcm(samples, rate, OPUS_RATE, str(path))
        soundfile.write(str(path), pcm, OPUS_RATE, format="OGG", subtype="OPUS")
    else:
        soundfile.write(str(path), samples, rate, subtype="PCM_16")


def speak_to_file(text: str, path: Path, voice: Voice = Voice()) -> None:
    samples, rate = synthesize(text, voice)
    write_audio(path, samples, rate)
