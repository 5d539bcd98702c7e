"""The sales pipeline: stage keys, labels and win probabilities, read from pipeline.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    probability: int
    open: bool


@dataclass(frozen=True)
class Pipeline:
    currency: str
    stages: tuple[Stage, ...]

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages)

    @property
    def open_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stages if s.open)


@cache
def default_pipeline() -> Pipeline:
    raw = json.loads(resources.files("storage").joinpath("pipeline.json").read_text("utf-8"))
    return Pipeline(currency=raw["currency"], stages=tuple(Stage(**s) for s in raw["stages"]))
