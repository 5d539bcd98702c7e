"""Slack events, slash commands and button presses with keys missing, of the wrong type or holding huge
text: the listener that turns them into a Message never raises, writes nothing for a payload it cannot
read, and answers an oversized message with a refusal before looking at it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from fuzz_settings import budget
from hypothesis import example, given
from hypothesis import strategies as st
from payloads import HUGE, TEXT, payload, records
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from adapters.slack.app import MAX_RAW_CHARS, SlackBot
from adapters.slack.settings import SlackSettings
from assistant import admin
from assistant.engine import Assistant
from assistant.runtime import Runtime

MARIA = "U0DEMO002"  # the demo's sales manager (storage/demo/users.csv)
PEOPLE = {
    MARIA: {"id": MARIA, "profile": {"email": "maria.gonzalez@northwind.example", "real_name": "Maria"}}
}


class OfflineSlack(WebClient):
    """The Web API, answered in process: users.info knows the demo's manager; posts are recorded."""

    def __init__(self) -> None:
        super().__init__(token="xoxb-offline", base_url="http://127.0.0.1:9/api/")
        self.posted: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        args = {**(kwargs.get("params") or {}), **(kwargs.get("json") or {}), **(kwargs.get("data") or {})}
        if api_method == "users.info":
            user = PEOPLE.get(str(args.get("user")))
            data: dict[str, Any] = {"ok": user is not None, "user": user, "error": "user_not_found"}
        else:
            with self.lock:
                self.posted.append({"method": api_method, **args})
            data = {"ok": True, "ts": "1700000000.000100", "channel": args.get("channel")}
        response = SlackResponse(
            client=self,
            http_verb="POST",
            api_url=api_method,
            req_args=kwargs,
            data=data,
            headers={},
            status_code=200,
        )
        return response.validate()


@dataclass
class NoHeaders:
    headers: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Responder:
    said: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> None:
        self.said.append(kwargs)


@pytest.fixture
def slack(runtime: Runtime) -> tuple[SlackBot, OfflineSlack]:
    admin.seed_demo(runtime)
    client = OfflineSlack()
    settings = SlackSettings(bot_token="xoxb-offline", signing_secret="offline-signing-secret")
    return SlackBot(Assistant(runtime), settings, client=client), client


CONTEXT = {"bot_user_id": "UBOT"}
EVENT = payload(
    {
        "type": st.just("message"),
        "channel_type": st.sampled_from(["im", "channel"]),
        "user": st.just(MARIA),
        "channel": st.just("D0MARIA"),
        "text": TEXT,
        "ts": st.just("1700000000.000200"),
        "thread_ts": st.just("1700000000.000100"),
        "subtype": st.sampled_from(["file_share", "message_changed"]),
    }
)


def well_formed(event: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(event.get(key), str) for key in keys)


@budget(40, deadline_ms=5_000)
@given(event=EVENT)
@example(event={"channel_type": "im", "user": MARIA, "ts": "1.2"})  # no channel: KeyError
@example(event={"channel_type": "im", "user": MARIA, "channel": "D0MARIA", "ts": "1.3", "text": None})
@example(event={"channel_type": "im", "user": [MARIA], "channel": "D0MARIA", "ts": "1.4", "text": "hi"})
def test_a_direct_message_event_of_any_shape_never_raises(
    slack: tuple[SlackBot, OfflineSlack], runtime: Runtime, event: dict[str, Any]
) -> None:
    bot, client = slack
    before = records(runtime)
    sent = len(client.posted)
    bot.on_message(event, CONTEXT, NoHeaders())  # type: ignore[arg-type]
    if not well_formed(event, "user", "channel") or not isinstance(event.get("text") or "", str):
        assert records(runtime) == before and len(client.posted) == sent


@budget(30, deadline_ms=5_000)
@given(event=EVENT)
@example(event={"user": MARIA, "channel": "C0SALES", "text": "hi"})  # no ts: KeyError
def test_a_mention_of_any_shape_never_raises(
    slack: tuple[SlackBot, OfflineSlack], runtime: Runtime, event: dict[str, Any]
) -> None:
    bot, _ = slack
    before = records(runtime)
    bot.on_mention({**event, "channel": event.get("channel", "C0SALES")}, CONTEXT, NoHeaders())  # type: ignore[arg-type]
    if not well_formed(event, "user", "ts"):
        assert records(runtime) == before


@budget(30, deadline_ms=5_000)
@given(command=payload({"user_id": st.just(MARIA), "text": TEXT, "trigger_id": st.text(max_size=10)}))
@example(command={"text": "pipeline by stage"})  # no user_id: KeyError
@example(command={"user_id": MARIA, "text": 42})
def test_a_slash_command_of_any_shape_never_raises(
    slack: tuple[SlackBot, OfflineSlack], runtime: Runtime, command: dict[str, Any]
) -> None:
    bot, _ = slack
    before = records(runtime)
    respond = Responder()
    bot.on_command(command, respond, CONTEXT)
    if not well_formed(command, "user_id"):
        assert records(runtime) == before and not respond.said


@budget(30, deadline_ms=5_000)
@given(
    body=payload(
        {
            "user": st.fixed_dictionaries({"id": st.just(MARIA)}),
            "channel": st.fixed_dictionaries({"id": st.just("D0MARIA")}),
            "message": st.fixed_dictionaries({"ts": st.just("1.5"), "blocks": st.just([])}),
            "trigger_id": st.text(max_size=10),
        }
    ),
    action=payload({"value": TEXT, "block_id": st.text(max_size=20), "action_ts": st.just("1.6")}),
)
@example(body={}, action={"value": "yes"})  # no user: KeyError
@example(body={"user": {"id": MARIA}}, action={"value": None, "block_id": 7})
def test_a_button_press_of_any_shape_never_raises(
    slack: tuple[SlackBot, OfflineSlack], runtime: Runtime, body: dict[str, Any], action: dict[str, Any]
) -> None:
    bot, _ = slack
    before = records(runtime)
    bot.on_button(body, action, Responder(), CONTEXT)
    user = body.get("user")
    if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        assert records(runtime) == before


@budget(5, deadline_ms=10_000)
@given(text=HUGE.filter(lambda text: len(text) > MAX_RAW_CHARS))
def test_an_oversized_message_is_refused_before_it_is_read(
    slack: tuple[SlackBot, OfflineSlack], runtime: Runtime, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    bot, client = slack
    looked_up: list[str] = []
    monkeypatch.setattr(bot.people, "name", lambda user: looked_up.append(user))
    before = records(runtime)
    event = {
        "type": "message",
        "channel_type": "im",
        "user": MARIA,
        "channel": "D0MARIA",
        "ts": f"9.{len(text)}",
    }
    bot.on_message({**event, "text": text + " <@U0OTHER>" * 50}, CONTEXT, NoHeaders())  # type: ignore[arg-type]
    assert "too long" in client.posted[-1]["text"]  # answered, without a lookup per mention
    assert records(runtime) == before and not looked_up
