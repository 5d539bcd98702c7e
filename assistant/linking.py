"""Linking a chat to a member of staff with a one-time code.

An admin runs `crm users link-code EMAIL` and passes the code on; the member of staff sends
`/link CODE` to the bot, and from then on that chat identity is theirs. A code is 8 characters from an
alphabet without look-alikes (no 0/O, 1/I/L), shown as "K7QX-M3PA" and accepted back in any case, with
or without the dash or spaces. It works once, for 15 minutes; the store keeps only its SHA-256, so a
copy of the database links no one. Guessing is bounded by `Guesses`: a few wrong codes per sender (and
more, but still few, per channel) in a window, after which the sender is told when to try again.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from assistant.messages import Reply
from assistant.replies import say
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import AuditEntry, ChannelIdentity, LinkCode, User

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or copied by hand safely
CODE_LENGTH = 8  # 31**8, about 8.5e11 codes, against at most a few hundred guesses a window
CODE_LIFETIME = timedelta(minutes=15)
GUESSES_PER_SENDER = 5  # wrong codes one chat identity may send in a window...
GUESSES_PER_CHANNEL = 100  # ...and all of a channel's senders together (many accounts, one guesser)
GUESS_WINDOW = timedelta(minutes=15)
KEPT_SENDERS = 10_000  # senders remembered; the least recently wrong are forgotten first


class LinkError(Exception):
    """A code that cannot be issued, with a message that says what to do."""


def normalise(code: str) -> str:
    """The form a code is hashed in: upper case, without dashes or spaces."""
    return "".join(code.split()).replace("-", "").upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode("ascii", "replace")).hexdigest()


def shown(code: str) -> str:
    """'K7QXM3PA' -> 'K7QX-M3PA': easier to read out and copy."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def new_code() -> str:
    return shown("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def well_formed(code: str) -> bool:
    plain = normalise(code)
    return len(plain) == CODE_LENGTH and all(c in ALPHABET for c in plain)


def issue_code(runtime: Runtime, email: str, now: datetime | None = None, channel: str | None = None) -> str:
    """A fresh one-time code for the live member of staff with this e-mail (any case).

    Issuing retires that user's earlier unused codes, so at most one code per person is ever live.
    """
    now = now or runtime.now()
    runtime.ensure_schema()
    with transaction(runtime.sessions) as session:
        user = session.scalar(
            select(User).where(func.lower(User.email) == email.strip().lower(), User.deleted_at.is_(None))
        )
        if user is None:
            raise LinkError(f"no member of staff has the e-mail {email}; add them with crm users add")
        session.execute(
            update(LinkCode)
            .where(LinkCode.user_id == user.id, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
            .values(expires_at=now)
        )
        code = new_code()
        session.add(
            LinkCode(
                code_hash=code_hash(code),
                user_id=user.id,
                channel=channel,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        return code


@dataclass
class Guesses:
    """Wrong codes lately, per sender and per channel, in this process (thread-safe).

    Several processes each count what they are sent; with a handful of guesses each against 8.5e11
    codes that is still no way in. A sender (or a channel) with too many wrong codes in the window is
    refused before its code is even looked at, so a right guess then is worth nothing.
    """

    per_sender: int = GUESSES_PER_SENDER
    per_channel: int = GUESSES_PER_CHANNEL
    window: timedelta = GUESS_WINDOW
    _senders: OrderedDict[tuple[str, str], deque[datetime]] = field(default_factory=OrderedDict)
    _channels: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, times: deque[datetime] | None, now: datetime) -> deque[datetime]:
        times = times if times is not None else deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_at(self, channel: str, sender: str, now: datetime) -> datetime | None:
        """None if this sender may try a code now; else when they may."""
        with self._lock:
            mine = self._recent(self._senders.get((channel, sender)), now)
            everyone = self._recent(self._channels.get(channel), now)
            waits = [
                times[-limit] + self.window
                for times, limit in ((mine, self.per_sender), (everyone, self.per_channel))
                if len(times) >= limit
            ]
        return max(waits) if waits else None

    def failed(self, channel: str, sender: str, now: datetime) -> None:
        """Counts one wrong (unknown, used or expired) code."""
        with self._lock:
            key = (channel, sender)
            mine = self._recent(self._senders.pop(key, None), now)
            mine.append(now)
            self._senders[key] = mine
            self._channels[channel] = self._recent(self._channels.get(channel), now)
            self._channels[channel].append(now)
            while len(self._senders) > KEPT_SENDERS:
                self._senders.popitem(last=False)


GUESSES = Guesses()  # the process's counts, shared by every channel that redeems codes


def _problem(found: LinkCode | None, channel: str, now: datetime) -> str | None:
    """What to say of a code that cannot be used here and now; None for a good one."""
    if found is None or (found.channel is not None and found.channel != channel):
        return say("link_code_unknown")
    if found.used_at is not None:
        return say("link_code_used")
    if found.expires_at <= now:
        return say("link_code_expired")
    return None


def redeem(
    runtime: Runtime,
    channel: str,
    external_id: str,
    code: str,
    now: datetime | None = None,
    guesses: Guesses | None = None,
) -> Reply:
    """Links this chat identity to the member of staff the code was issued for, in one transaction.

    A new identity is created, or a customer's (or a departed colleague's) is re-pointed to the user;
    one that belongs to another live member of staff is refused. An unknown, used or expired code, or a
    sender who guessed too often, changes nothing.
    """
    now = now or runtime.now()
    guesses = guesses or GUESSES
    retry = guesses.retry_at(channel, external_id, now)
    if retry is not None:
        minutes = max(1, math.ceil((retry - now).total_seconds() / 60))
        return Reply(say("link_too_many_guesses", count=minutes), intent="link")
    if not well_formed(code):
        guesses.failed(channel, external_id, now)
        return Reply(say("link_code_unknown"), intent="link")
    with transaction(runtime.sessions) as session:
        found = session.scalar(
            select(LinkCode).where(LinkCode.code_hash == code_hash(code)).with_for_update()
        )
        problem = _problem(found, channel, now)
        user = session.get(User, found.user_id) if found is not None and problem is None else None
        if found is None or user is None or user.deleted_at is not None:
            guesses.failed(channel, external_id, now)
            return Reply(problem or say("link_code_unknown"), intent="link")
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
            )
        )
        if identity is not None and identity.user_id not in (None, user.id):
            owner = session.get(User, identity.user_id)
            if owner is not None and owner.deleted_at is None:
                return Reply(say("link_identity_taken"), intent="link")
        before = (
            None if identity is None else {"user_id": identity.user_id, "customer_id": identity.customer_id}
        )
        if identity is None:
            identity = ChannelIdentity(channel=channel, external_id=external_id, user_id=user.id)
            session.add(identity)
        else:
            identity.user_id, identity.customer_id = user.id, None
        found.used_at, found.used_by = now, external_id
        session.flush()
        session.add(
            AuditEntry(
                at=now,
                user_id=user.id,
                channel=channel,
                change_group=f"link-{identity.id}",
                action="link",  # not create/update: "undo" must not unlink a chat
                entity="channel_identities",
                entity_id=identity.id,
                before=before,
                after={
                    "channel": channel,
                    "external_id": external_id,
                    "user_id": user.id,
                    "customer_id": None,
                },
            )
        )
        return Reply(say("linked", name=user.name, email=user.email), intent="link")
