"""How new accounts and deals are named: the user's own casing when it has capitals, else title case
("zephyr robotics" -> "Zephyr Robotics", "iRobot labs" stays); a new deal after its account and what was
said about it ("Zephyr Robotics deal", "Zephyr Robotics - 50 seats")."""

from __future__ import annotations

import re
from typing import Any

SMALL_WORDS = {"a", "an", "and", "at", "de", "for", "in", "of", "on", "or", "the", "to", "van", "von"}
SPELLED = {  # legal forms as companies write them
    "ag": "AG",
    "bv": "BV",
    "gmbh": "GmbH",
    "llc": "LLC",
    "llp": "LLP",
    "lp": "LP",
    "nv": "NV",
    "plc": "PLC",
    "sa": "SA",
    "srl": "SRL",
}
_WORD = re.compile(r"[^\W\d_][\w']*")


def proper_name(said: str) -> str:
    """A new record's name as said when it has a capital anywhere, else title case."""
    name = " ".join(said.split())
    if any(c.isupper() for c in name):
        return name

    def cap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in SPELLED:
            return SPELLED[word]
        if match.start() > 0 and word in SMALL_WORDS:
            return word
        return word[0].upper() + word[1:]

    return _WORD.sub(cap, name)


def deal_name(account: str, words: str | None) -> str | None:
    """A new deal's name from what was said about it: "Zephyr Robotics - 50 seats"; the words with the
    account's own spelling when they start with its name; None when nothing was said (the default name
    then)."""
    if not words or not words.strip():
        return None
    words = " ".join(words.split())
    if words.casefold().startswith(account.casefold()):
        return account + words[len(account) :]
    return f"{account} - {words}"


def cased_account(slots: dict[str, Any], known: Any) -> dict[str, Any]:
    """The slots with a new account's name cased (`known(name)` finds a stored one, which keeps its own)."""
    name = slots.get("account")
    if not isinstance(name, str) or known(name) is not None:
        return slots
    return {**slots, "account": proper_name(name)}
