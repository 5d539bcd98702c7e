"""The one budget every fuzz test runs under: few examples, a deadline per example, and the same
examples on every run (derandomize), so CI is deterministic and the folder stays well under a minute."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings

HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


def budget(examples: int, deadline_ms: int = 2_000) -> settings:
    """Hypothesis settings for one fuzz test: `examples` deterministic examples, none slower than
    `deadline_ms` (a hang or a runaway input is a failure, not a slow test)."""
    return settings(
        max_examples=examples,
        deadline=timedelta(milliseconds=deadline_ms),
        derandomize=True,
        database=None,
        suppress_health_check=HEALTH,
    )
