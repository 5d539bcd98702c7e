"""One turn's world: who speaks, the session of its transaction, the clock, the conversation state,
and what a skill can answer with (a reply, or a question the dialogue policy keeps open)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistant.audit import Recorder
from assistant.conversation import Context, ConversationState, Pending
from assistant.meanwhile import Seen
from assistant.messages import Button, Reply
from storage.models import Account, Customer, User


@dataclass
class Turn:
    session: Session
    user: User | None
    customer: Customer | None
    channel: str
    now: datetime  # aware, in the user's zone
    tz: ZoneInfo
    state: ConversationState
    audit: Recorder
    spoken: bool = False  # the words were heard: a write is read back before it is made
    answered: Pending | None = None  # the question this turn's yes answered: what changed since is told
    watched: Seen | None = None  # what a read-back just saw of the records it would change
    accounts: dict[str, Account] = field(default_factory=dict)  # found by name this turn (records.py)

    @property
    def role(self) -> str:
        return self.user.role if self.user else "customer"

    @property
    def is_manager(self) -> bool:
        return self.role in ("manager", "admin")

    @property
    def context(self) -> Context:
        return self.state.context

    def remember(self, **ids: int | None) -> None:
        """What this turn was about, for "log a call with them" and "move it to negotiation" next."""
        self.state.context.remember(**ids)

    def show(self, kind: str, ids: list[int]) -> None:
        """The records a list in the reply shows, in order, for "the first one" next."""
        self.state.context.show(kind, ids)


@dataclass
class Ask:
    """The skill needs one more slot; the answer to `question` fills `slot`, or any of `accepts`
    ("what should change?" is answered by an amount as well as by a stage)."""

    slot: str
    question: str
    accepts: tuple[str, ...] = ()


@dataclass
class Choose:
    """The mention fits several records; the user picks one by number or name."""

    slot: str
    what: str
    options: list[str]
    details: list[str] = field(default_factory=list)  # beside each option: "Acme Corporation" for a contact

    def shown(self) -> list[str]:
        """The options as the user sees them: "Jane Doe (Acme Corporation)"."""
        if not self.details:
            return list(self.options)
        return [f"{o} ({d})" if d else o for o, d in zip(self.options, self.details, strict=True)]


@dataclass
class Confirm:
    """Ask yes/no first; on yes the skill runs again with `flag` set in its slots."""

    question: str
    flag: str
    speech: str = ""  # how it is said aloud, when not the question's first line


Outcome = Reply | Ask | Choose | Confirm


def undo_button() -> list[Button]:
    return [Button("Undo", "undo", "undo")]
