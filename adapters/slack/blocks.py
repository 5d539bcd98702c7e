"""A neutral `Reply` as Block Kit: pure functions, so every path (DM, thread, slash command, outbox)
renders the same way.

The reply's light markdown (*bold*) is Slack's own mrkdwn; stored text is escaped (&, <, >) so a
record named "<!channel>" cannot ping anybody. A table is a monospaced block of the shared plain
table (adapters/rendering.py); buttons carry the text they send as the next turn in their value.
"""

from __future__ import annotations

from typing import Any

from adapters.rendering import clean, text_table
from assistant.messages import Button, Reply

ACTION_PREFIX = "crm_"  # action_id of every button: crm_<kind>_<n>
OWNER_PREFIX = "crm_for_"  # block_id of a reply's buttons: crm_for_<Slack user id>
SECTION_LIMIT = 2900  # Slack cuts a section's text at 3000 characters
BUTTON_TEXT_LIMIT = 75
BUTTONS_PER_BLOCK = 25
MAX_BLOCKS = 50
STYLES = {"confirm": "primary", "done": "primary", "cancel": "danger"}


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is meant."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into pieces of at most `limit` characters (a longer single line is cut)."""
    pieces: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button_element(button: Button, index: int) -> dict[str, Any]:
    label = clean(button.label).replace("\n", " ") or button.value
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{button.kind}_{index}",
        "text": {"type": "plain_text", "text": label[:BUTTON_TEXT_LIMIT], "emoji": True},
        "value": button.value,
    }
    if button.kind in STYLES:
        element["style"] = STYLES[button.kind]
    return element


def reply_blocks(reply: Reply, owner: str | None = None) -> list[dict[str, Any]]:
    """The reply's blocks; its buttons are marked as `owner`'s (a Slack user id) when given."""
    blocks = [_section(piece) for piece in _chunks(escape(clean(reply.text)).split("\n"), SECTION_LIMIT)]
    if reply.table is not None and reply.table.columns:
        lines = [escape(line) for line in text_table(reply.table)]
        blocks += [_section(f"```{piece}```") for piece in _chunks(lines, SECTION_LIMIT - 6)]
    if reply.buttons:
        elements = [button_element(b, i) for i, b in enumerate(reply.buttons, 1)]
        for n, start in enumerate(range(0, len(elements), BUTTONS_PER_BLOCK)):
            block: dict[str, Any] = {
                "type": "actions",
                "elements": elements[start : start + BUTTONS_PER_BLOCK],
            }
            if owner:
                block["block_id"] = f"{OWNER_PREFIX}{owner}" + (f".{n}" if n else "")
            blocks.append(block)
    return blocks[:MAX_BLOCKS]


def fallback_text(reply: Reply) -> str:
    """What a notification or a client without blocks shows: the plain first part of the reply."""
    return escape(clean(reply.plain))[:SECTION_LIMIT]


def render(reply: Reply, owner: str | None = None) -> dict[str, Any]:
    """chat.postMessage / respond() arguments: the fallback `text` and the `blocks`."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply, owner)}


def button_owner(block_id: str) -> str | None:
    """Whose buttons these are (the Slack user id in the block id), or None if nobody's in particular."""
    if not block_id.startswith(OWNER_PREFIX):
        return None
    return block_id[len(OWNER_PREFIX) :].split(".")[0] or None


def answered_blocks(blocks: list[dict[str, Any]], user_id: str, label: str) -> list[dict[str, Any]]:
    """The message a button was pressed on, its buttons replaced by who chose what (no second press)."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    note = f"<@{user_id}> chose *{escape(label)}*"
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}][:MAX_BLOCKS]
