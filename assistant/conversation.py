"""A conversation: its typed state, and the one lock that turns and the outbox take on it.

The state is what the next message needs: the open question, what the talk was last about, and the
platform message ids already answered. It is stored as JSON on the `conversations` row; this module
is the only place that knows that JSON's keys.

The lock (Rasa's `LockStore.lock(conversation_id)`) is a row lock on PostgreSQL and the write lock on
SQLite (every transaction begins IMMEDIATE: storage/db.py). Turns and reminders both go through
`lock_conversations`, so a reminder never overwrites the state of a turn running at the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from storage.db import insert_or_skip
from storage.models import Conversation

SEEN_KEEP = 50  # message ids remembered per conversation: platform retries come within minutes
TRANSCRIPT_KEEP = 20  # lines of a customer's conversation kept for the ticket it may turn into
TRANSCRIPT_CHARS = 2000  # of each line

PendingKind = Literal["ask", "choose", "confirm", "mean"]
Key = tuple[str, str]  # (channel, external id): a conversation as its platform names it


@dataclass
class Context:
    """The records the conversation was last about, for "log a call with them" and "move it"."""

    account_id: int | None = None
    contact_id: int | None = None
    deal_id: int | None = None
    task_id: int | None = None
    shown_kind: str = ""  # what the last list showed ("deal", "task"), for "the first one" next
    shown: list[int] = field(default_factory=list)  # its records' ids, in the order shown

    def remember(self, **ids: int | None) -> None:
        """Sets the ids given; a None leaves what was there.

        A turn about another account moves the talk on: the contact and deal of the account talked
        about before are forgotten unless given again, so "move it" never reaches back past the
        account just named or shown to a deal of an earlier one.
        """
        for name in ids:
            if name not in _ID_FIELDS:
                raise TypeError(f"a conversation's context has no {name!r}")
        account_id = ids.get("account_id")
        self.shown_kind, self.shown = "", []  # "the first one" is about the list just shown, if any
        if account_id is not None and account_id != self.account_id:
            self.contact_id = None
            self.deal_id = None
        for name, value in ids.items():
            if value is not None:
                setattr(self, name, value)

    def show(self, kind: str, ids: list[int]) -> None:
        """A list was shown: "the first one", "the last deal" next are its records."""
        self.shown_kind, self.shown = kind, list(ids)

    def nth_shown(self, kind: str, n: int) -> int | None:
        """The id of the n-th record (1-based, -1 the last) of the list just shown, if it showed `kind`."""
        if self.shown_kind != kind or not self.shown or not (1 <= n <= len(self.shown) or n == -1):
            return None
        return self.shown[n - 1] if n > 0 else self.shown[-1]

    def copy(self) -> Context:
        return Context(**{**asdict(self), "shown": list(self.shown)})

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value not in (None, "", [])}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Context:
        data = data or {}
        ids = {k: int(v) for k, v in data.items() if k in _ID_FIELDS and v is not None}
        return cls(
            **ids, shown_kind=str(data.get("shown_kind", "")), shown=[int(i) for i in data.get("shown", [])]
        )


_ID_FIELDS = frozenset(("account_id", "contact_id", "deal_id", "task_id"))


@dataclass
class Pending:
    """The question the assistant asked and is waiting for an answer to; the answer re-runs `intent`."""

    kind: PendingKind
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    slot: str = ""  # ask, choose: the slot the answer fills
    question: str = ""  # ask: said again when the answer is not understood
    accepts: list[str] = field(default_factory=list)  # ask: other slots an answer may fill instead
    tries: int = 0  # answers not understood so far: the second time, the way out is offered
    rest: list[str] = field(default_factory=list)  # requests of the same message that wait their turn
    group: str = ""  # the change group of that message's changes so far: one undo reverts them all
    options: list[str] = field(default_factory=list)  # choose: what is offered, in order
    details: list[str] = field(default_factory=list)  # choose: beside each option, what tells them apart
    flag: str = ""  # confirm: set in the slots when the answer is yes
    seen: dict[str, Any] = field(
        default_factory=dict
    )  # confirm, mean: what the question saw (meanwhile.Seen)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v or k in ("kind", "intent")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pending:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ConversationState:
    pending: Pending | None = None
    context: Context = field(default_factory=Context)
    seen: list[str] = field(default_factory=list)
    last_write: str = ""  # the intent of the change the last turn made: "actually make it 42k" goes on
    # the support bot's side (a customer's conversation):
    handoff: int | None = None  # the ticket a person handles this conversation on; the bot stays quiet
    misses: int = 0  # questions in a row the bot could not answer: at two, a person is asked to join
    transcript: list[list[str]] = field(default_factory=list)  # [who, text] of the latest turns

    def already_seen(self, message_id: str) -> bool:
        """True for a platform's retry of a message answered before; else the id is remembered."""
        if message_id in self.seen:
            return True
        self.seen.append(message_id)
        del self.seen[:-SEEN_KEEP]
        return False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.pending is not None:
            data["pending"] = self.pending.to_json()
        if context := self.context.to_json():
            data["context"] = context
        if self.seen:
            data["seen"] = list(self.seen)
        if self.last_write:
            data["last_write"] = self.last_write
        if self.handoff is not None:
            data["handoff"] = self.handoff
        if self.misses:
            data["misses"] = self.misses
        if self.transcript:
            data["transcript"] = [list(line) for line in self.transcript]
        return data

    def said(self, who: str, text: str) -> None:
        """One line of the conversation, kept to attach to a ticket opened later in it."""
        if text:
            self.transcript.append([who, text[:TRANSCRIPT_CHARS]])
            del self.transcript[:-TRANSCRIPT_KEEP]

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        data = data or {}
        pending = data.get("pending")
        return cls(
            pending=Pending.from_json(pending) if pending else None,
            context=Context.from_json(data.get("context")),
            seen=[str(s) for s in data.get("seen", [])],
            last_write=str(data.get("last_write", "")),
            handoff=int(data["handoff"]) if data.get("handoff") is not None else None,
            misses=int(data.get("misses", 0)),
            transcript=[[str(who), str(text)] for who, text in data.get("transcript", [])],
        )


def lock_conversations(
    session: Session, keys: Iterable[Key], user_ids: dict[Key, int | None] | None = None
) -> dict[Key, Conversation]:
    """Locks these conversations until the transaction ends, creating the missing ones.

    Rows are created in key order and locked in id order, so two transactions that lock overlapping
    sets never wait for each other in a cycle.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    user_ids = user_ids or {}
    session.execute(
        insert_or_skip(session, Conversation, ["channel", "external_id"]),
        [
            {"channel": c, "external_id": e, "user_id": user_ids.get((c, e)), "state": {}, "version": 0}
            for c, e in wanted
        ],
    )
    query = (
        select(Conversation)
        .where(tuple_(Conversation.channel, Conversation.external_id).in_(wanted))
        .order_by(Conversation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(c.channel, c.external_id): c for c in session.scalars(query)}


def lock_conversation(session: Session, channel: str, external_id: str) -> Conversation:
    """One conversation, locked: what a turn takes before it reads the state. One round trip when the
    conversation exists (a turn's round trips are most of its time on a busy store)."""
    found = session.scalars(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:  # seen for the first time: created (or found created meanwhile), then locked
        return lock_conversations(session, [(channel, external_id)])[(channel, external_id)]
    return found


def load_state(conversation: Conversation) -> ConversationState:
    return ConversationState.from_json(conversation.state)


def save_state(conversation: Conversation, state: ConversationState) -> None:
    """The state, written back with the conversation's version one up (written in the same UPDATE)."""
    conversation.state = state.to_json()  # a new object, so SQLAlchemy sees the change
    conversation.version += 1
