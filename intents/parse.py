"""The result of parsing one utterance, as `crm parse --json` prints it (shared/spec/intents.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parse:
    text: str
    intent: str
    confidence: float
    slots: dict[str, Any] = field(default_factory=dict)
    spelt: dict[str, str] = field(default_factory=dict)  # words as written -> the record read from a typo

    def to_json(self) -> dict[str, Any]:
        out = {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "slots": self.slots,
        }
        return {**out, "spelt": self.spelt} if self.spelt else out


def ambiguous(slots: dict[str, Any]) -> bool:
    """A record slot with several candidates: the assistant asks which one before it writes."""
    return any(isinstance(v, dict) and "ambiguous" in v for v in slots.values())
