"""When digests and stale-deal alerts go out: the issue's defaults and the CRM_* settings that move them.

Apart from the reminder pass and the digests, so both read one `Schedule` and neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time

from assistant.runtime import SettingsError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Schedule:
    """When digests and alerts go out. Defaults from the issue; `from_env` reads the CRM_* overrides."""

    digest_at: time = time(8, 30)
    digest_days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    digest_roles: tuple[str, ...] = ("rep",)
    weekly_day: int = 0  # Monday
    weekly_at: time = time(8, 30)
    weekly_roles: tuple[str, ...] = ("manager",)
    stale_days: int = 14

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Schedule:
        """CRM_DIGEST_AT=08:30, CRM_DIGEST_DAYS=mon,tue,wed,thu,fri, CRM_WEEKLY_DIGEST_AT='mon 08:30',
        CRM_STALE_DAYS=14."""
        schedule = cls()
        try:
            if value := env.get("CRM_DIGEST_AT"):
                schedule = replace(schedule, digest_at=time.fromisoformat(value))
            if value := env.get("CRM_DIGEST_DAYS"):
                days = frozenset(DAYS.index(d.strip().lower()[:3]) for d in value.split(",") if d.strip())
                schedule = replace(schedule, digest_days=days)
            if value := env.get("CRM_WEEKLY_DIGEST_AT"):
                weekday, at = value.split()
                schedule = replace(
                    schedule, weekly_day=DAYS.index(weekday.lower()[:3]), weekly_at=time.fromisoformat(at)
                )
            if value := env.get("CRM_STALE_DAYS"):
                schedule = replace(schedule, stale_days=int(value))
        except ValueError as error:
            raise SettingsError(
                f"a reminder setting cannot be used ({error}); see assistant/schedule.py"
            ) from None
        if schedule.stale_days < 1:
            raise SettingsError("CRM_STALE_DAYS must be 1 or more")
        return schedule
