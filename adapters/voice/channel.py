"""The voice channel's output side: a reply spoken, by its short speakable form, never its table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adapters.channel import OutputChannel
from adapters.voice.speak import Voice, speak_to_file
from adapters.voice.speakable import spoken
from assistant.messages import Reply


@dataclass
class VoiceChannel(OutputChannel):
    out: Path  # each reply is written here as speech (.wav, or .ogg/.opus)
    voice: Voice = field(default_factory=Voice)
    name = "voice"

    def render(self, reply: Reply) -> str:
        return spoken(reply)

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        speak_to_file(text, self.out, self.voice)
