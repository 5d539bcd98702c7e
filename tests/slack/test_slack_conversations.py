"""Every staff conversation of tests/dialogue/conversations, replayed through Slack: each turn a signed DM,
and an answer that is one of the last reply's buttons (yes, 2, undo...) pressed as that button. The same
reply fragments must show in the Block Kit message and the same changes land in the store (with
"slack" as the channel where the data says "terminal")."""

from __future__ import annotations

from typing import Any

import pytest
from conversation_cases import CASES, check_store
from fake_slack import dm
from slack_world import PEOPLE, Workspace

SLACK_IDS = {user["profile"]["email"].lower(): slack_id for slack_id, user in PEOPLE.items()}
# the spoken ones are the voice channel's (tests/voice); those with a customer's turn the terminal's
STAFF_CASES = [
    (name, case)
    for name, case in CASES
    if case["as"].lower() in SLACK_IDS
    and not case.get("spoken")
    and not any("as" in t for t in case["turns"])
]


def shown(posted: dict[str, Any]) -> str:
    """What a person reads: the sections (the table is one, in a code block), without mrkdwn stars."""
    sections = [b["text"]["text"] for b in posted.get("blocks", []) if b.get("type") == "section"]
    return (
        "\n".join(sections).replace("*", "").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )


def button_for(posted: dict[str, Any] | None, said: str) -> str | None:
    """The label of the button a typed answer stands for, if the last reply offered one."""
    for block in (posted or {}).get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if said.strip().lower() in (element["value"].lower(), element["text"]["text"].lower()):
                return str(element["text"]["text"])
    return None


def on_slack(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def swap(check: dict[str, Any]) -> dict[str, Any]:
        where = {
            k: ("slack" if k == "channel" and v == "terminal" else v)
            for k, v in check.get("where", {}).items()
        }
        return {**check, "where": where}

    return [swap(check) for check in checks]


@pytest.mark.parametrize("name,case", STAFF_CASES, ids=[f"{n}: {c['name']}" for n, c in STAFF_CASES])
def test_conversation_over_slack(workspace: Workspace, name: str, case: dict[str, Any]) -> None:
    user = SLACK_IDS[case["as"].lower()]
    last: dict[str, Any] | None = None
    for turn in case["turns"]:
        said = turn["say"]
        before = len(workspace.fake.posts())
        label = button_for(last, said)
        if label is not None:
            answer = workspace.press(user, {**last, "channel": "D0DM"} if last else {}, label)
        else:
            answer = workspace.event(dm(user, said, workspace.next_ts()))
        assert answer.status == 200
        if label is not None:  # the pressed message lost its buttons
            assert workspace.fake.wait(lambda: len(workspace.fake.called("chat.update")) >= 1)
        posts = workspace.fake.wait_posts(before + 1)
        assert len(posts) == before + 1, f"no answer to {said!r}"
        last = posts[-1]
        text = shown(last)
        for fragment in turn.get("reply", []):
            assert fragment.lower() in text.lower(), f"{said!r} -> {text!r} lacks {fragment!r}"
        for fragment in turn.get("not", []):
            assert fragment.lower() not in text.lower(), f"{said!r} -> {text!r} has {fragment!r}"
        check_store(workspace.runtime, on_slack(turn.get("store", [])), said)
