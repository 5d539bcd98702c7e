"""Pure parts of the Slack adapter: settings from the environment, Slack's text back to typed text, and a
neutral reply as Block Kit."""

from __future__ import annotations

import pytest

from adapters.slack.blocks import BUTTONS_PER_BLOCK, SECTION_LIMIT, button_owner, render
from adapters.slack.settings import SlackSettings, SlackSettingsError
from adapters.slack.text import unformat
from assistant.messages import Button, Reply, Table

NAMES = {"U0DANIEL": "Daniel Okafor"}


@pytest.mark.parametrize(
    ("slack", "typed"),
    [
        ("<@UBOT> top deals this week", "top deals this week"),
        ("add contact <mailto:jane@acme.com|jane@acme.com> at Acme", "add contact jane@acme.com at Acme"),
        ("website is <http://acme.com|acme.com>", "website is acme.com"),
        ("see <https://acme.com/pricing>", "see https://acme.com/pricing"),
        ("call <tel:+15551234|+1 555 1234>", "call +1 555 1234"),
        ("open deals for <@U0DANIEL>", "open deals for Daniel Okafor"),
        ("open deals for <@U0NOBODY|nina>", "open deals for nina"),
        ("post it in <#C123|sales>", "post it in #sales"),
        ("R&amp;D deal &lt;50k&gt;", "R&D deal <50k>"),
        ("  lots   of\nspace ", "lots of space"),
    ],
)
def test_slack_text_reads_as_typed(slack: str, typed: str) -> None:
    assert unformat(slack, "UBOT", NAMES.get) == typed


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_APP_TOKEN": "xapp-1"}, "starts with xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "app-level token"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "CRM_SLACK_PORT": "80x"},
            "CRM_SLACK_PORT",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "CRM_SLACK_API_URL": "slack"},
            "http(s) URL",
        ),
    ],
)
def test_settings_say_what_to_set(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SlackSettingsError) as caught:
        SlackSettings.from_env(env)
    assert problem in str(caught.value)
    assert "xoxb-1" not in str(caught.value)


def test_settings_choose_the_mode_and_hide_the_tokens() -> None:
    http = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret",
            "SLACK_SIGNING_SECRET": "shh",
            "CRM_SLACK_PORT": "8080",
            "CRM_SLACK_API_URL": "http://127.0.0.1:9/api",
        }
    )
    assert (http.socket_mode, http.port, http.api_url) == (False, 8080, "http://127.0.0.1:9/api/")
    socket = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_APP_TOKEN": "xapp-secret"})
    assert socket.socket_mode and socket.api_url == "https://slack.com/api/" and socket.mode == "Socket Mode"
    assert "secret" not in repr(http) + repr(socket) and "shh" not in repr(http)


def test_a_reply_renders_as_sections_a_table_and_buttons_owned_by_the_asker() -> None:
    reply = Reply(
        "Move *Acme <Renewal>* to negotiation?",
        table=Table(("Deal", "Amount"), (("Acme Renewal", "$5,000"),), (False, True), ("Total", "$5,000")),
        buttons=[
            Button("Yes", "yes", "confirm"),
            Button("No", "no", "cancel"),
            Button("Undo", "undo", "undo"),
        ],
    )
    rendered = render(reply, owner="U0DANIEL")
    assert rendered["text"] == "Move Acme &lt;Renewal&gt; to negotiation?"
    first, table, actions = rendered["blocks"]
    assert first["text"]["text"] == "Move *Acme &lt;Renewal&gt;* to negotiation?"
    assert table["text"]["text"].startswith("```Deal") and "$5,000```" in table["text"]["text"]
    assert [(e["value"], e.get("style")) for e in actions["elements"]] == [
        ("yes", "primary"),
        ("no", "danger"),
        ("undo", None),
    ]
    assert len({e["action_id"] for e in actions["elements"]}) == 3
    assert button_owner(actions["block_id"]) == "U0DANIEL"


def test_long_replies_and_many_buttons_stay_inside_slacks_limits() -> None:
    reply = Reply(
        "\n".join(f"line {i} " + "x" * 90 for i in range(200)),
        buttons=[Button(f"Option {i} " + "y" * 100, str(i)) for i in range(30)],
    )
    blocks = render(reply, owner="U1")["blocks"]
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in sections)
    assert "".join(b["text"]["text"] for b in sections).count("line ") == 200
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [BUTTONS_PER_BLOCK, 5]
    assert len({b["block_id"] for b in actions}) == 2 and {button_owner(b["block_id"]) for b in actions} == {
        "U1"
    }
    assert all(len(e["text"]["text"]) <= 75 for b in actions for e in b["elements"])


def test_a_reply_without_an_asker_has_buttons_anyone_may_press() -> None:
    [_, actions] = render(Reply("Hi", buttons=[Button("Yes", "yes", "confirm")]))["blocks"]
    assert "block_id" not in actions and button_owner("") is None
