"""`crm doctor`'s Slack line: the settings `crm serve --slack` reads, and one auth.test with the bot token.

slack_sdk is imported only here inside `check`, so a machine without the Slack extra still gets a
report (FAIL when Slack is configured, skip when it is not)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adapters.slack.settings import SlackSettings, SlackSettingsError
from assistant.health import Check, Status, first_line, redacted

NAME = "slack"
SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")  # any of them: Slack is meant
TIMEOUT = 10  # seconds for auth.test
FIX_TOKEN = "SLACK_BOT_TOKEN: your app's Bot User OAuth Token (xoxb-...), on its OAuth & Permissions page"


def check(env: Mapping[str, str] = os.environ) -> Check:
    if not any(env.get(name, "").strip() for name in SETTINGS):
        return Check(NAME, Status.SKIP, "not configured")
    try:
        settings = SlackSettings.from_env(env)
    except SlackSettingsError as error:
        return Check(NAME, Status.FAIL, f"the settings cannot be used: {error}", "README: Slack")
    secrets = [settings.bot_token, settings.app_token, settings.signing_secret]
    try:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError
    except ModuleNotFoundError:
        return Check(
            NAME,
            Status.FAIL,
            "Slack is configured but slack_sdk is not installed",
            "pip install 'crm-assistant[slack]'",
        )
    client = WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=TIMEOUT)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = redacted(str(error.response.get("error") or "no reason given"), secrets)
        return Check(NAME, Status.FAIL, f"Slack refused the bot token ({code})", FIX_TOKEN)
    except OSError as error:  # refused, timed out, no route: urllib's errors are OSErrors
        cause = getattr(error, "reason", error)  # URLError wraps the socket's own error
        plain = cause.strerror if isinstance(cause, OSError) and cause.strerror else None
        reason = redacted(plain or first_line(cause), secrets)
        return Check(
            NAME,
            Status.FAIL,
            f"cannot reach Slack's Web API at {settings.api_url}: {reason}",
            "check the network and proxy, or CRM_SLACK_API_URL",
        )
    who = f"@{answer.get('user') or answer.get('user_id')} in {answer.get('team') or answer.get('team_id')}"
    return Check(NAME, Status.OK, redacted(f"the bot token works ({who}); {settings.mode}", secrets))
