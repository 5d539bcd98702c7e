"""Slack's message text back to what the person typed: links, e-mails and mentions unwrapped.

Slack sends "add jane@acme.com" as "add <mailto:jane@acme.com|jane@acme.com>", a web site as
"<http://acme.com|acme.com>", a person as "<@U123>", and escapes &, < and > (api.slack.com formatting).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ANGLE = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"\s+")


def unformat(
    text: str, bot_user_id: str | None = None, name_of: Callable[[str], str | None] | None = None
) -> str:
    """The typed text: the bot's own mention dropped, other people's mentions as their names."""

    def plain(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user = target[1:]
            if user == bot_user_id:
                return " "
            return (name_of(user) if name_of else None) or label or target
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            return f"@{label or target[1:].split('^')[0]}"
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        if target.startswith("tel:"):
            return label or target[len("tel:") :]
        return label or target

    unwrapped = _ANGLE.sub(plain, text)
    unescaped = unwrapped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACES.sub(" ", unescaped).strip()
