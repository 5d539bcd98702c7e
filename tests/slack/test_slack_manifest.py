"""slack/manifest.yaml grants what the app uses and subscribes to what it listens for, nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adapters.slack.settings import EVENTS_PATH

MANIFEST = Path(__file__).parents[2] / "slack" / "manifest.yaml"
# each Web API method the adapter calls, and the bot scopes it needs (api.slack.com/methods)
METHOD_SCOPES = {
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.open": {"im:write"},  # the DM an outbox row went to, to look for it before a resend
    # a reply or reminder looked for before it is sent again, in a DM or in the channel a mention came from
    "conversations.history": {"im:history", "channels:history", "groups:history"},
    "conversations.replies": {"im:history", "channels:history", "groups:history"},  # ... in its thread
    "users.info": {"users:read", "users:read.email"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
EVENT_SCOPES = {"app_mention": {"app_mentions:read"}, "message.im": {"im:history"}}


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def test_scopes_cover_every_call_and_event_and_nothing_else() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = set().union(*METHOD_SCOPES.values(), *EVENT_SCOPES.values(), {"commands"})
    assert needed <= scopes
    assert scopes - needed <= {"im:read"}


def test_events_command_and_buttons_reach_the_app() -> None:
    data = manifest()
    settings = data["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert settings["interactivity"]["is_enabled"] is True
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/crm"
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        command["url"],
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert data["features"]["app_home"]["messages_tab_enabled"] is True  # people can DM the app
