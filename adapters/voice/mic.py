"""`crm voice --mic`: the hands-free loop. The default microphone is read through sox's `rec` (or
`CRM_MIC_COMMAND`, any command writing 16 kHz mono 16-bit raw audio to stdout), each utterance is cut
out by an energy endpointer and decoded as soon as it ends, and each reply is spoken (`play`, or
`CRM_SPEAKER_COMMAND`, given a WAV file's path). What the microphone hears while the reply is spoken
is dropped, so the assistant never answers itself.
"""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adapters.voice.transcriber import Transcriber, VoiceError

MIC_ENV = "CRM_MIC_COMMAND"
SPEAKER_ENV = "CRM_SPEAKER_COMMAND"
RATE = 16000
DEFAULT_MIC = "rec -q -t raw -r 16000 -e signed-integer -b 16 -c 1 -"
DEFAULT_SPEAKER = "play -q"
TAIL_MS = 150  # of the pause after the last word that is decoded with it
STOP_PHRASES = ("goodbye", "good bye", "bye", "stop listening")  # said alone, they end `crm voice --mic`


@dataclass
class Endpointer:
    """Where speech starts and ends in a stream of frames, by energy against a running noise floor:
    speech starts after `start_ms` of frames `ratio` times louder than the floor (with `preroll_ms`
    of what came before, so the first word is whole) and ends after `end_ms` of quiet, or at
    `max_seconds`."""

    frame: int = RATE * 30 // 1000
    ratio: float = 4.0
    start_ms: int = 90
    end_ms: int = 700
    preroll_ms: int = 300
    max_seconds: float = 15.0
    min_level: float = 60.0  # rms of int16 samples: quieter than this is silence whatever the floor
    floor: float | None = None  # the level of the room, from the frames before speech
    speaking: bool = False
    _loud: int = 0
    quiet_frames: int = 0  # of quiet since the last loud frame
    _heard: int = 0
    _before: deque[np.ndarray] = field(default_factory=deque)

    def frames_of(self, ms: int) -> int:
        return max(1, ms * RATE // 1000 // self.frame)

    def _track(self, level: float, loud: bool) -> None:
        """The floor falls fast to a quieter room and rises slowly with a louder one; the frames that
        may be the start of speech leave it alone."""
        if self.floor is None or level < self.floor:
            self.floor = level if self.floor is None else (self.floor + level) / 2
        elif not loud:
            self.floor += 0.02 * (level - self.floor)

    def feed(self, frame: np.ndarray) -> tuple[list[np.ndarray], bool]:
        """The audio of an utterance this frame adds (the pre-roll too, when speech starts here), and
        whether the utterance ended with it."""
        level = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) if len(frame) else 0.0
        loud = level > max(self.min_level, (self.floor or 0.0) * self.ratio)
        if not self.speaking:
            self._track(level, loud)
            self._before.append(frame)
            while len(self._before) > self.frames_of(self.preroll_ms):
                self._before.popleft()
            self._loud = self._loud + 1 if loud else 0
            if self._loud < self.frames_of(self.start_ms):
                return [], False
            self.speaking, self.quiet_frames, self._heard = True, 0, len(self._before)
            started = list(self._before)
            self._before.clear()
            return started, False
        self._heard += 1
        self.quiet_frames = 0 if loud else self.quiet_frames + 1
        too_long = self._heard * self.frame >= self.max_seconds * RATE
        ended = self.quiet_frames >= self.frames_of(self.end_ms) or too_long
        if ended:
            self.speaking, self._loud = False, 0
        return [frame], ended


def utterances(frames: Iterable[np.ndarray], transcriber: Transcriber) -> Iterator[str]:
    """What was said, one utterance at a time. Each is decoded whole once it ends: the features are
    normalised by the utterance's own mean, which hears short answers ("yes") far better than a
    decoder that started before it."""
    endpointer = Endpointer()
    heard: list[np.ndarray] = []
    for frame in frames:
        audio, ended = endpointer.feed(frame)
        heard += audio
        if ended:
            tail = max(0, endpointer.quiet_frames - endpointer.frames_of(TAIL_MS))  # the pause that ended it
            yield transcriber.transcribe(np.concatenate(heard[: len(heard) - tail]))
            heard = []


@dataclass
class Microphone:
    """The default microphone as frames of int16 samples at 16 kHz. A thread reads it all the time, so
    that what it hears while `muted` (the reply being spoken) is dropped, not heard late."""

    command: str = field(default_factory=lambda: os.environ.get(MIC_ENV) or DEFAULT_MIC)
    frame: int = RATE * 30 // 1000
    muted: bool = False

    def frames(self) -> Iterator[np.ndarray]:
        try:
            command = shlex.split(self.command)
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as error:
            missing = f"no microphone: {self.command!r} did not start ({error}); set {MIC_ENV}"
            raise VoiceError(missing) from None
        heard: queue.Queue[np.ndarray | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process, heard), daemon=True).start()
        try:
            while (frame := heard.get()) is not None:
                yield frame
        finally:
            process.kill()
            _, errors = process.communicate()
        if process.returncode not in (0, -signal.SIGKILL) and errors:
            raise VoiceError(f"the microphone stopped: {errors.decode(errors='replace').strip()[:200]}")

    def _read(self, process: subprocess.Popen[bytes], heard: queue.Queue[np.ndarray | None]) -> None:
        assert process.stdout is not None
        while chunk := process.stdout.read(self.frame * 2):
            if not self.muted:
                heard.put(np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16))
        heard.put(None)


def play(wav: Path, microphone: Microphone) -> None:
    """The reply out loud, with the microphone muted meanwhile."""
    command = [*shlex.split(os.environ.get(SPEAKER_ENV) or DEFAULT_SPEAKER), str(wav)]
    microphone.muted = True
    try:
        subprocess.run(command, capture_output=True, check=False)
    except OSError as error:
        raise VoiceError(f"no speaker: {command[0]!r} did not start ({error}); set {SPEAKER_ENV}") from None
    finally:
        microphone.muted = False


def reply_file() -> Path:
    return Path(tempfile.gettempdir()) / f"crm-voice-reply-{os.getpid()}.wav"
