"""Makes the spoken test set: tests/voice/commands.jsonl said by the voices of voices.json, clean and
mixed with noise at each SNR of voices.json, as 16 kHz OGG/Opus files in tests/voice/audio/.

Deterministic: the same voices, the same noise (seeded road-like rumble and hiss). Run it after
changing the commands or the voices:  python tests/voice/make_recordings.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from adapters.voice.speak import Voice, synthesize, write_audio  # noqa: E402

AUDIO = HERE / "audio"
PAD_SECONDS = 0.3  # of quiet before and after the speech, as a recording has


def noise(length: int, seed: int) -> np.ndarray:
    """Road-like noise: brown rumble plus a little white hiss, unit power."""
    rng = np.random.default_rng(seed)
    brown = np.cumsum(rng.standard_normal(length))
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")  # no drift, keeps the rumble
    mixed = brown / np.std(brown) + 0.5 * rng.standard_normal(length)
    return np.asarray(mixed / np.std(mixed), dtype=np.float32)


def mix(speech: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """`speech` with noise at `snr_db` below the power of its voiced part."""
    voiced = speech[np.abs(speech) > 0.02 * np.max(np.abs(speech))]
    power = float(np.mean(voiced**2))
    added = noise(len(speech), seed) * np.sqrt(power / 10 ** (snr_db / 10))
    out = speech + added
    return np.asarray(out / max(1.0, float(np.max(np.abs(out)))), dtype=np.float32)


def file_name(command_id: str, voice_index: int, snr: float | None) -> str:
    return f"{command_id}-v{voice_index}-{'clean' if snr is None else f'snr{snr:g}'}.opus"


def main() -> None:
    settings = json.loads((HERE / "voices.json").read_text("utf-8"))
    voices = [Voice.from_json(v) for v in settings["voices"]]
    commands = [json.loads(line) for line in (HERE / "commands.jsonl").read_text("utf-8").splitlines()]
    shutil.rmtree(AUDIO, ignore_errors=True)
    AUDIO.mkdir()
    turn = 0
    for number, command in enumerate(commands):
        for _ in range(settings["per_command"]):
            index = turn % len(voices)
            turn += 1
            samples, rate = synthesize(command["text"], voices[index])
            pad = np.zeros(int(PAD_SECONDS * rate), dtype=np.float32)
            speech = np.concatenate([pad, samples, pad])
            write_audio(AUDIO / file_name(command["id"], index, None), speech, rate)
            for snr in settings["noise_snr_db"]:
                noisy = mix(speech, snr, seed=number * 100 + index)
                write_audio(AUDIO / file_name(command["id"], index, snr), noisy, rate)
    print(f"{turn} recordings, each clean and at {settings['noise_snr_db']} dB SNR, in {AUDIO}")


if __name__ == "__main__":
    main()
