"""The channels `crm serve` can run: adding a channel is one adapter package and one line here.

Each entry names the package's module with a `start(runtime, channels)` function: it reads the
platform's settings from the environment, starts the platform's listeners on their own threads,
registers its output channel for the outbox, and returns what `close()` stops. Each also names a
module whose `check(env)` is its `crm doctor` line (settings, then one harmless API call). Modules are
imported only when their channel is asked for, so a platform's optional packages are needed only to run
it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from assistant.channels import Registry
from assistant.health import Check
from assistant.runtime import Runtime


class Running(Protocol):
    def close(self) -> None: ...


class Idle:
    """A channel this process leaves to a sibling (Telegram's polling in `crm serve --processes N`)."""

    def close(self) -> None:
        """Nothing runs here, so nothing stops."""


class PlatformError(Exception):
    """A channel that cannot start, with the line to print and the exit status (2: bad settings)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Platform:
    name: str
    needs: str  # the settings it reads, said when `crm serve` runs with no channel
    module: str | None = None  # None: not part of this version yet
    doctor: str | None = None  # the module whose `check(env)` is the channel's `crm doctor` line

    def starter(self) -> Callable[[Runtime, Registry], Running]:
        if self.module is None:
            raise PlatformError(f"the {self.name} channel is not part of this version yet")
        try:
            start: Callable[[Runtime, Registry], Running] = importlib.import_module(self.module).start
        except ModuleNotFoundError as error:  # the platform's optional packages are not installed
            raise PlatformError(
                f"the {self.name} channel needs {error.name}: pip install 'crm-assistant[{self.name}]'"
            ) from error
        return start

    def checker(self) -> Callable[[Mapping[str, str]], Check] | None:
        """The channel's `crm doctor` check; its module imports the platform's packages only when run."""
        if self.doctor is None:
            return None
        check: Callable[[Mapping[str, str]], Check] = importlib.import_module(self.doctor).check
        return check


PLATFORMS = (
    Platform(
        "slack",
        "SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)",
        "adapters.slack.platform",
        "adapters.slack.doctor",
    ),
    Platform(
        "telegram",
        "TELEGRAM_BOT_TOKEN (CRM_TELEGRAM_WEBHOOK_URL for a webhook)",
        "adapters.telegram.platform",
        "adapters.telegram.doctor",
    ),
    Platform(
        "web",
        "CRM_WEB_SECRET and CRM_WEB_ORIGINS (on CRM_WEB_PORT)",
        "adapters.web.platform",
        "adapters.web.doctor",
    ),
)
