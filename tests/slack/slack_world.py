"""The Slack world the tests talk to: demo staff as Slack users, and the app as Slack sees it (an events URL
to post signed requests to, and the fake Web API that records what the app sent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Answer,
    FakeSlack,
    button_body,
    command_body,
    event_body,
    post,
    slack_user,
)

from adapters.slack.app import SlackBot
from adapters.slack.settings import SlackSettings
from assistant.runtime import Runtime

MARIA = "U0DEMO002"  # the demo's sales manager; her Slack id is in storage/demo/users.csv
DANIEL = "U0DEMO003"  # a rep
STRANGER = "U0STRANGER"  # in the Slack workspace, not in the CRM
NEWCOMER = "U0NEWCOMER"  # in the CRM by e-mail only, no Slack id yet
NEWCOMER_EMAIL = "lena.berg@northwind.example"

DEMO_STAFF = {  # the demo's staff with their Slack ids (storage/demo/users.csv)
    "U0DEMO001": "Alex Turner",
    MARIA: "Maria Gonzalez",
    DANIEL: "Daniel Okafor",
    "U0DEMO004": "Priya Raman",
    "U0DEMO005": "Tom Fischer",
    "U0DEMO006": "Sofia Rossi",
    "U0DEMO007": "Kevin Walsh",
}
PEOPLE = {
    **{
        slack_id: slack_user(slack_id, name.lower().replace(" ", ".") + "@northwind.example", name)
        for slack_id, name in DEMO_STAFF.items()
    },
    STRANGER: slack_user(STRANGER, "sam.stranger@elsewhere.example", "Sam Stranger"),
    NEWCOMER: slack_user(NEWCOMER, NEWCOMER_EMAIL.upper(), "Lena Berg", tz="Asia/Tokyo"),
}


def settings_for(fake: FakeSlack) -> SlackSettings:
    return SlackSettings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url)


@dataclass
class Workspace:
    """The app as Slack sees it: an events URL to post signed requests to, and the fake that records."""

    fake: FakeSlack
    bot: SlackBot
    runtime: Runtime
    url: str
    _events: int = 0
    _ts: int = 0

    def next_ts(self) -> str:
        self._ts += 1
        return f"1790000000.{self._ts:06d}"

    def event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> Answer:
        self._events += 1
        body = event_body(event, event_id or f"Ev{self._events:08d}")
        return post(self.url, body, "application/json", **kw)

    def command(self, user: str, text: str) -> Answer:
        self._events += 1
        url = self.fake.response_url(f"cmd{self._events}")
        return post(
            self.url,
            command_body(user, text, url, f"trigger{self._events}"),
            "application/x-www-form-urlencoded",
        )

    def press(self, user: str, posted: dict[str, Any], label: str) -> Answer:
        """Presses the button labelled `label` on a message the app posted (as the fake recorded it)."""
        for block in posted.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element["text"]["text"] == label:
                    message = {
                        "ts": posted.get("ts", "1790000000.999999"),
                        "channel": posted["channel"],
                        **posted,
                    }
                    self._events += 1
                    body = button_body(
                        user,
                        message,
                        element,
                        block.get("block_id", ""),
                        self.fake.response_url(f"btn{self._events}"),
                    )
                    return post(self.url, body, "application/x-www-form-urlencoded")
        raise AssertionError(f"no button {label!r} in {posted.get('blocks')}")
