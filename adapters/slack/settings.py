"""The Slack settings, from the environment only: tokens never come from a file or a flag, and are never
printed (their fields are kept out of `repr`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
EVENTS_PATH = "/slack/events"


class SlackSettingsError(Exception):
    """The environment does not describe a runnable Slack app; the message says what to set."""


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)  # Socket Mode
    signing_secret: str | None = field(default=None, repr=False)  # HTTP mode
    port: int = DEFAULT_PORT
    api_url: str = SLACK_API_URL
    path: str = EVENTS_PATH
    support_channel: str | None = None  # where staff are told of new tickets (a channel id, C...)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def mode(self) -> str:
        return "Socket Mode" if self.socket_mode else f"HTTP on port {self.port}, path {self.path}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SlackSettings:
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        problems = []
        if not bot_token:
            problems.append("SLACK_BOT_TOKEN (the bot token, xoxb-...) is not set")
        elif not bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN does not look like a bot token (it starts with xoxb-)")
        if app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN does not look like an app-level token (it starts with xapp-)")
        if not app_token and not secret:
            problems.append(
                "set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode behind a "
                "public URL)"
            )
        port_text = env.get("CRM_SLACK_PORT", "").strip() or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            problems.append(f"CRM_SLACK_PORT must be a port number, not {port_text!r}")
        api_url = env.get("CRM_SLACK_API_URL", "").strip() or SLACK_API_URL
        if not api_url.startswith(("http://", "https://")):
            problems.append(f"CRM_SLACK_API_URL must be an http(s) URL, not {api_url!r}")
        support = env.get("CRM_SLACK_SUPPORT_CHANNEL", "").strip().lstrip("#") or None
        if support is not None and not support.replace("_", "").replace("-", "").isalnum():
            problems.append(f"CRM_SLACK_SUPPORT_CHANNEL must be a channel id (C0123...), not {support!r}")
        if problems:
            raise SlackSettingsError("; ".join(problems))
        return cls(
            bot_token=bot_token,
            app_token=app_token,
            signing_secret=secret,
            port=int(port_text),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            support_channel=support,
        )
