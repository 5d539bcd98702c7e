"""The benchmark's figures: percentiles, per-kind timings and the whole result with the issue's targets,
as the JSON `crm bench --json` prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TARGETS = {  # engine: (deals, p50 ms or None, p95 ms), from the issue that asked for the benchmark
    "sqlite": (100_000, 15.0, 50.0),
    "postgresql": (1_000_000, None, 100.0),
}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so small samples are not rounded up."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _figures(values: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 in ms; None (JSON null, never NaN) when nothing was timed."""
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}


@dataclass
class KindFigures:
    intent: str  # the intent the kind should get
    turns: list[float] = field(default_factory=list)  # ms
    sql: list[float] = field(default_factory=list)  # ms
    intents: dict[str, int] = field(default_factory=dict)  # what it got, and how often
    errors: int = 0
    skipped: int = 0  # an answer with no question before it
    reply: str = ""  # the last reply's first line, to see what was answered

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"turns": len(self.turns), **_figures(self.turns)}
        out["max"] = round(max(self.turns), 2) if self.turns else None
        if self.sql:
            out["sql_p50"], out["sql_p95"] = _figures(self.sql).values()
        out.update(expected_intent=self.intent, intents=self.intents, errors=self.errors)
        out.update(skipped=self.skipped, reply=self.reply)
        return out


@dataclass
class BenchResult:
    deals: int
    engine: str
    rounds: int
    built: bool
    build_s: float
    startup_s: float
    personas: list[dict[str, str]]
    kinds: dict[str, KindFigures]
    errors: list[dict[str, str]] = field(default_factory=list)
    bench_s: float = 0.0

    @property
    def turns(self) -> list[float]:
        return [t for k in self.kinds.values() for t in k.turns]

    @property
    def sql(self) -> list[float]:
        return [t for k in self.kinds.values() for t in k.sql]

    @property
    def read_turns(self) -> list[float]:
        """Turns of the kinds that have a SQL twin: the like-for-like side of the ratio."""
        return [t for k in self.kinds.values() if k.sql for t in k.turns]

    def ratio_p50(self, turns: Sequence[float]) -> float | None:
        """Turn p50 / SQL p50: how many times the SQL's own time a turn takes (None if not measurable)."""
        sql = percentile(self.sql, 0.5)
        if not turns or not self.sql or sql <= 0:
            return None
        return round(percentile(turns, 0.5) / sql, 2)

    def target(self) -> dict[str, Any] | None:
        """The issue's target for this engine, when the store is that size; None otherwise."""
        goal = TARGETS.get(self.engine)
        if goal is None or self.deals != goal[0]:
            return None
        p50, p95 = percentile(self.turns, 0.5), percentile(self.turns, 0.95)
        met = p95 <= goal[2] and (goal[1] is None or p50 <= goal[1])
        return {"p50_ms": goal[1], "p95_ms": goal[2], "met": met}

    def to_json(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "engine": self.engine,
            "turn_ms": _figures(self.turns),
            "sql_ms": _figures(self.sql),
            "ratio_p50": self.ratio_p50(self.turns),
            "read_ratio_p50": self.ratio_p50(self.read_turns),
            "turns": len(self.turns),
            "rounds": self.rounds,
            "kinds": {key: figures.to_json() for key, figures in self.kinds.items()},
            "personas": self.personas,
            "built": self.built,
            "build_s": self.build_s,
            "startup_s": self.startup_s,
            "bench_s": round(self.bench_s, 2),
            "target": self.target(),
            "errors": self.errors,
        }
