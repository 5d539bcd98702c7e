"""`crm doctor`'s speech lines: the engine CRM_ASR_ENGINE names and its model, and espeak-ng.

Voice is optional: with no engine named and the voice extra not installed, the line says so and fails
nothing. An engine that is named must be usable. Models are checked where they lie, never loaded (a
Whisper or Vosk model takes seconds and hundreds of MB)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path

from assistant.health import Check, Status

NAME = "speech"
VOICE_EXTRA = "pip install 'crm-assistant[voice]'"
WHISPER_EXTRA = "pip install 'crm-assistant[whisper]'"
ESPEAK_FIX = "apt-get install espeak-ng (make install does it)"


def checks(env: Mapping[str, str] = os.environ) -> list[Check]:
    """The engine's line, then espeak-ng's."""
    chosen = env.get("CRM_ASR_ENGINE", "").strip()
    try:
        from adapters.voice import transcriber
    except ModuleNotFoundError as error:  # numpy and friends come with the voice extra
        if chosen:
            says = f"CRM_ASR_ENGINE is {chosen} but the voice packages are not installed (no {error.name})"
            return [Check(NAME, Status.FAIL, says, VOICE_EXTRA)]
        says = f"not installed (crm voice, crm parse --audio and Telegram voice notes need {VOICE_EXTRA})"
        return [Check(NAME, Status.SKIP, says)]
    engine_default = transcriber.DEFAULT_ENGINE
    engine = chosen or engine_default
    if engine not in transcriber.ENGINES:
        return [
            Check(
                NAME,
                Status.FAIL,
                f"CRM_ASR_ENGINE names no speech engine: {engine!r}",
                f"CRM_ASR_ENGINE one of {', '.join(transcriber.ENGINES)} (unset: {engine_default})",
            )
        ]
    parts = engine.split("+")
    found = [_engine(part, env) for part in parts]
    failed = [check for check in found if check.status is not Status.OK]
    speech = failed[0] if failed else Check(NAME, Status.OK, f"{engine}: " + "; ".join(c.says for c in found))
    return [speech, _espeak("pocketsphinx" in parts)]


def _engine(name: str, env: Mapping[str, str]) -> Check:
    if name == "pocketsphinx":
        return _pocketsphinx()
    if name == "vosk":
        return _vosk(env)
    return _whisper(env)


def _pocketsphinx() -> Check:
    if find_spec("pocketsphinx") is None:
        return Check(NAME, Status.FAIL, "PocketSphinx is not installed", VOICE_EXTRA)
    from adapters.voice.sphinx import MODEL

    missing = [str(p) for p in (MODEL / "en-us", MODEL / "cmudict-en-us.dict") if not p.exists()]
    if missing:
        says = f"PocketSphinx's en-us model is incomplete (no {', '.join(missing)})"
        return Check(NAME, Status.FAIL, says, f"pip install --force-reinstall pocketsphinx; or {VOICE_EXTRA}")
    return Check(NAME, Status.OK, f"PocketSphinx model at {MODEL}")


def _vosk(env: Mapping[str, str]) -> Check:
    from adapters.voice.transcriber import VOSK_MODEL_ENV, VoiceError

    if find_spec("vosk") is None:
        return Check(NAME, Status.FAIL, "Vosk is not installed", VOICE_EXTRA)
    folder = env.get(VOSK_MODEL_ENV, "").strip()
    fix = f"{VOSK_MODEL_ENV}=DIR, a model folder unzipped from alphacephei.com/vosk/models (README: Voice)"
    if not folder:
        return Check(NAME, Status.FAIL, f"the Vosk engine needs a model and {VOSK_MODEL_ENV} is not set", fix)
    if not Path(folder).is_dir():
        return Check(NAME, Status.FAIL, f"{VOSK_MODEL_ENV} names no folder: {folder}", fix)
    from adapters.voice.vosk_engine import check_model_folder

    try:
        vocabulary = check_model_folder(Path(folder))
    except VoiceError as error:
        return Check(NAME, Status.FAIL, str(error), fix)
    mode = "its own language model" if vocabulary is None else f"grammar mode, {len(vocabulary):,} words"
    return Check(NAME, Status.OK, f"Vosk model at {folder} ({mode})")


def _whisper(env: Mapping[str, str]) -> Check:
    from adapters.voice.transcriber import WHISPER_MODEL_ENV, VoiceError

    if find_spec("faster_whisper") is None:
        return Check(NAME, Status.FAIL, "Whisper (faster-whisper) is not installed", WHISPER_EXTRA)
    from adapters.voice.whisper_engine import model_folder

    try:
        folder = model_folder(env.get(WHISPER_MODEL_ENV, "").strip() or None)
    except VoiceError as error:
        return Check(
            NAME, Status.FAIL, str(error).split("; ")[0], f"{WHISPER_EXTRA}, or {WHISPER_MODEL_ENV}=DIR"
        )
    return Check(NAME, Status.OK, f"Whisper model at {folder}")


def _espeak(needed: bool) -> Check:
    """PocketSphinx needs espeak-ng to pronounce names its dictionary lacks; spoken replies need it too."""
    from adapters.voice.pronounce import ESPEAK

    found = shutil.which(ESPEAK)
    if found:
        return Check(ESPEAK, Status.OK, f"{found} (names' pronunciations, spoken replies)")
    if needed:
        says = f"{ESPEAK} is not installed: PocketSphinx cannot pronounce new names, nor replies be spoken"
        return Check(ESPEAK, Status.FAIL, says, ESPEAK_FIX)
    return Check(ESPEAK, Status.WARN, f"{ESPEAK} is not installed: replies cannot be spoken", ESPEAK_FIX)
