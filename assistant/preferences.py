"""What a person has chosen for one chat identity: for now, whether replies also come as voice notes.

A voice reply is sent only when the rep spoke; this is the per-identity switch on top of that. It is
kept on the ChannelIdentity (None means the default, on), so it follows the chat, not the process.
"""

from __future__ import annotations

from sqlalchemy import CursorResult, select, update

from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelIdentity

VOICE_REPLIES_DEFAULT = True


def voice_replies(runtime: Runtime, channel: str, external_id: str) -> bool:
    """Whether this identity gets a voice note with the text reply to a spoken message."""
    with runtime.sessions() as session:
        chosen = session.scalar(
            select(ChannelIdentity.voice_replies).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
            )
        )
    return VOICE_REPLIES_DEFAULT if chosen is None else chosen


def set_voice_replies(runtime: Runtime, channel: str, external_id: str, on: bool) -> bool:
    """Turns voice replies on or off for this identity; False when there is no such identity."""
    with transaction(runtime.sessions) as session:
        done = session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
            .values(voice_replies=on)
        )
        return isinstance(done, CursorResult) and done.rowcount > 0
