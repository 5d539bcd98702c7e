"""The engine: one message in, one reply out, in one transaction under the conversation's lock.

identity -> user or customer; the conversation is locked for the whole turn (assistant/conversation.py,
the same lock the outbox takes); its typed state is loaded, the policy runs one skill, the state is
saved, and everything commits together or not at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from assistant import broadcast, inbox
from assistant.audit import Recorder
from assistant.conversation import load_state, lock_conversation, save_state
from assistant.dialogue import Policy
from assistant.limits import MAX_MESSAGE_CHARS, RateLimiter, SharedRateLimiter
from assistant.messages import DUPLICATE, Message, Reply
from assistant.replies import say
from assistant.runtime import Runtime
from assistant.store_names import StoreNames
from assistant.turn import Turn
from assistant.when import known_zone, zone_of
from intents.names import NamedRecord
from intents.parser import Parser
from storage.db import transaction
from storage.models import Account, AuditEntry, ChannelIdentity, Contact, Conversation, Customer, Deal, User

log = logging.getLogger(__name__)
NAMES_CHECK_SECONDS = 2.0
REFUSED = "refused"  # the intent of a reply to a message refused before its turn (too long, too fast)
TRIES = 3
STALE_RETRIES = 1  # a turn that lost an optimistic-locking race runs once more on fresh data
RETRIED_STATES = ("40P01", "40001")  # deadlock detected, serialization failure
NAMED: dict[str, tuple[Any, str]] = {
    "accounts": (Account, "account"),
    "contacts": (Contact, "contact"),
    "deals": (Deal, "deal"),
    "users": (User, "user"),
}  # tables whose records the parser knows by name


class Assistant:
    def __init__(self, runtime: Runtime) -> None:
        runtime.ensure_schema()
        self.runtime = runtime
        self.names = StoreNames(runtime.sessions)
        self.parser = Parser.build(self.names)
        self.policy = Policy(self.parser)
        self._names_version = self.names.version()
        self._names_checked = time.monotonic()
        self._names_lock = threading.Lock()  # adapters run turns on several threads
        # customers' messages per identity, counted in the store: the same bucket whichever process of
        # crm serve --processes N (or machine) a message reaches
        self.limiter: RateLimiter | SharedRateLimiter = SharedRateLimiter(runtime, bucket="turns")

    def default_staff_email(self) -> str | None:
        with self.runtime.sessions() as session:
            emails = session.scalars(select(User.email).where(User.deleted_at.is_(None)).limit(2)).all()
        return emails[0] if len(emails) == 1 else None

    def inbox(self, channel: str, sender: str) -> list[Reply]:
        """Reminders delivered to `sender` on a channel that shows them only while open (the terminal)."""
        from assistant.channels import take_inbox

        with transaction(self.runtime.sessions) as session:
            return take_inbox(session, sender, channel)

    def news(self, channel: str, sender: str) -> list[Reply]:
        """Staff answers a customer on `channel` has not seen yet, marked seen: what a live channel (the
        web chat) pushes to a connected visitor between their messages."""
        from assistant.skills.support import take_news
        from assistant.support_desk import rating_due, rating_question

        with transaction(self.runtime.sessions) as session:
            identity = session.scalars(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_id == sender
                )
            ).first()
            if identity is None or identity.customer_id is None:
                return []
            now = self.runtime.now()
            pushed = [Reply(line) for line in take_news(session, identity.customer_id, now)]
            if not pushed and not rating_due(session, identity.customer_id):
                return []  # the usual poll: nothing new, nothing written
            conversation = lock_conversation(session, channel, sender)
            state = load_state(conversation)
            if (asked := rating_question(session, identity.customer_id, state, now)) is not None:
                pushed.append(asked)  # a ticket was solved meanwhile: "how did we do?" comes at once
            for reply in pushed:  # kept in the conversation too, so a returning visitor reads them again
                state.said("assistant", reply.plain)
            save_state(conversation, state)
            # the visitor's widgets open on other processes get them too (taken here, they are seen)
            news = {"channel": channel, "sender": sender, "replies": [r.to_json() for r in pushed]}
            broadcast.publish(session, broadcast.NEWS, news)
            return pushed

    def listen_for_news(self, deliver: Callable[[str, str, list[Reply]], None]) -> broadcast.Listener:
        """Staff answers another process took for a customer (`news`), handed to `deliver(channel,
        sender, replies)` on the listener's thread; close the listener to stop."""

        def decode(news: dict[str, Any]) -> None:
            channel, sender, replies = news.get("channel"), news.get("sender"), news.get("replies")
            if isinstance(channel, str) and isinstance(sender, str) and isinstance(replies, list):
                deliver(channel, sender, [Reply.from_json(r) for r in replies if isinstance(r, dict)])

        return broadcast.Listener(self.runtime, broadcast.NEWS, decode).start()

    def first_time(self, channel: str, sender: str, message_id: str) -> bool:
        """Records a platform message answered outside a turn (a command, a refusal), as a turn records
        its own: False when this or another process took it already, so a repeat is not answered."""
        with transaction(self.runtime.sessions) as session:
            conversation = lock_conversation(session, channel, sender)
            state = load_state(conversation)
            if state.already_seen(message_id):
                return False
            save_state(conversation, state)
            return True

    def is_staff(self, channel: str, sender: str) -> bool:
        """Whether a chat identity belongs to a live staff member: a channel whose strangers are
        customers (Telegram) sends everyone else to the support bot."""
        with self.runtime.sessions() as session:
            return (
                session.scalars(
                    select(ChannelIdentity.id)
                    .join(User, User.id == ChannelIdentity.user_id)
                    .where(
                        ChannelIdentity.channel == channel,
                        ChannelIdentity.external_id == sender,
                        User.deleted_at.is_(None),
                    )
                ).first()
                is not None
            )

    def waiting_news(self, channel: str) -> list[str]:
        """The customers on `channel` with staff answers or a rating question waiting: whom a channel
        that can write first (Telegram) pushes `news` to."""
        from assistant.support_desk import customers_with_news

        with self.runtime.sessions() as session:
            return customers_with_news(session, channel)

    def history(self, channel: str, sender: str) -> list[tuple[str, str]]:
        """The latest lines of a customer's conversation, (who, text) with who "customer" or
        "assistant": what a returning web visitor sees again."""
        with self.runtime.sessions() as session:
            conversation = session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel, Conversation.external_id == sender
                )
            ).first()
            if conversation is None or conversation.customer_id is None:
                return []
            return [(who, text) for who, text in load_state(conversation).transcript]

    def handle(self, message: Message) -> Reply:
        """Never raises: a failed turn rolls back and says so."""
        if len(message.text) > MAX_MESSAGE_CHARS:
            return Reply(say("message_too_long", limit=MAX_MESSAGE_CHARS), intent=REFUSED)
        if message.customer and not self.limiter.allow(message.channel, message.sender):
            return Reply(say("slow_down"), intent=REFUSED)
        try:
            return self._handle(message)
        except OperationalError:
            log.exception("store unavailable")
            return Reply(say("store_busy"))
        except Exception:
            log.exception("turn failed: %r", message.text)
            return Reply(say("error"))

    def _handle(self, message: Message) -> Reply:
        self._refresh_names()
        stale = 0
        for attempt in range(TRIES):
            try:
                with transaction(self.runtime.sessions) as session:
                    reply, created, wrote = self._turn(session, message)
                break
            except StaleDataError:
                # someone else committed a change to a record this turn read and then changed (its
                # UPDATE matched no row of the version read): rolled back whole, and run once more on
                # fresh data, where the dialogue sees the other change and says so
                stale += 1
                if stale > STALE_RETRIES:
                    log.warning("turn lost the race for a record twice: %r", message.text)
                    return Reply(say("record_busy"))
                log.info("a record changed under the turn; running it again")
            except OperationalError as error:
                # PostgreSQL chose this turn as a deadlock's victim (two turns moving deals across the same
                # deal_totals rows) and rolled it back whole: the turn runs again from the start
                if getattr(error.orig, "sqlstate", None) not in RETRIED_STATES or attempt == TRIES - 1:
                    raise
                log.info("turn rolled back (%s); trying again", error.orig.sqlstate)  # type: ignore[union-attr]
        else:  # every try was rolled back (deadlocks, then a lost race): nothing was written
            log.warning("turn rolled back on every try: %r", message.text)
            return Reply(say("store_busy"))
        if wrote:
            with self._names_lock:
                for record in created:
                    self.parser.index.add(record)
                # the index is in step with this process's own writes; an undone creation's name stays
                # until the next rebuild, and looking it up then finds nothing
                self._names_version = self.names.version()
        return reply

    def _refresh_names(self) -> None:
        """Names this process adds are indexed at once; others' changes are looked for every few seconds."""
        if time.monotonic() - self._names_checked < NAMES_CHECK_SECONDS:
            return
        with self._names_lock:
            if time.monotonic() - self._names_checked < NAMES_CHECK_SECONDS:
                return  # another thread checked while this one waited
            version = self.names.version()
            self._names_checked = time.monotonic()
            if version != self._names_version:
                self.parser.refresh(self.names)
                self._names_version = version

    @staticmethod
    def _locked(session: Session, message: Message) -> tuple[Conversation, ChannelIdentity | None]:
        """The sender's conversation, locked (FOR UPDATE), with their identity and person read in the
        same round trip when both exist: every turn needs all three. A sender seen for the first time
        gets a conversation and no identity here; `_identify` looks again once the lock is held."""
        found = session.execute(
            _locked_query(message.customer), {"channel": message.channel, "sender": message.sender}
        ).first()
        if found is None:
            return lock_conversation(session, message.channel, message.sender), None
        return found[0], found[1]

    def _identify(
        self, session: Session, message: Message, identity: ChannelIdentity | None
    ) -> tuple[User | None, Customer | None]:
        if identity is None:
            # read after the lock is held: another process's turn for this sender may have made it
            # while this one waited, and a second one must not be made
            identity = session.scalars(
                select(ChannelIdentity)
                .where(
                    ChannelIdentity.channel == message.channel, ChannelIdentity.external_id == message.sender
                )
                .options(joinedload(ChannelIdentity.customer if message.customer else ChannelIdentity.user))
            ).first()
        if message.customer:
            if identity is not None and identity.customer is not None:
                return None, identity.customer
            customer = None
            if "@" in message.sender:
                customer = session.scalars(
                    select(Customer).where(Customer.email == message.sender).order_by(Customer.id)
                ).first()
                if customer is None:
                    contact = session.scalars(select(Contact).where(Contact.email == message.sender)).first()
                    customer = Customer(
                        email=message.sender,
                        name=contact.name if contact else None,
                        contact_id=contact.id if contact else None,
                    )
            customer = customer or Customer()
            session.add(customer)
            session.flush()
            session.add(
                ChannelIdentity(channel=message.channel, external_id=message.sender, customer_id=customer.id)
            )
            return None, customer
        if identity is not None and identity.user is not None and identity.user.deleted_at is None:
            return identity.user, None
        if message.sender_is_email and "@" in message.sender:
            return self._user_by_email(session, message.sender), None
        if identity is None and message.sender_email:
            # a platform account seen for the first time whose e-mail is a staff member's: linked for good
            user = self._user_by_email(session, message.sender_email)
            if user is not None:
                session.add(
                    ChannelIdentity(channel=message.channel, external_id=message.sender, user_id=user.id)
                )
                session.flush()
            return user, None
        return None, None

    @staticmethod
    def _user_by_email(session: Session, email: str) -> User | None:
        return session.scalars(
            select(User).where(func.lower(User.email) == email.strip().lower(), User.deleted_at.is_(None))
        ).first()

    def _turn(self, session: Session, message: Message) -> tuple[Reply, list[NamedRecord], bool]:
        # locked first: two processes given one platform message (a retry) must not both make its
        # sender's identity; the second waits here, then finds it, and the message already seen
        conversation, identity = self._locked(session, message)
        user, customer = self._identify(session, message, identity)
        if user is None and customer is None:
            return Reply(say("unknown_staff", who=message.sender), intent="unknown_user"), [], False
        conversation.user_id = user.id if user else None
        conversation.customer_id = customer.id if customer else None
        if user is not None and not user.timezone and known_zone(message.sender_timezone):
            user.timezone = message.sender_timezone  # the platform's word, until an admin says otherwise
        tz = zone_of(user, self.runtime.tz) if user else self.runtime.tz  # dates as the speaker means them
        state = load_state(conversation)
        if message.message_id and state.already_seen(message.message_id):
            return Reply("", intent=DUPLICATE), [], False
        recorder = Recorder(session, user.id if user else None, message.channel)
        now = self.runtime.now().astimezone(tz)
        turn = Turn(session, user, customer, message.channel, now, tz, state, recorder, message.spoken)
        reply = self.policy.respond(turn, message.text)
        if message.message_id:  # with the turn, or not at all: what a recovery of the message posts
            inbox.answered(session, message.channel, message.message_id, reply)
        save_state(conversation, state)
        session.flush()
        wrote = recorder.changes > 0 or reply.intent == "undo"
        return reply, self._created_names(session, recorder.group) if recorder.changes else [], wrote

    @staticmethod
    def _created_names(session: Session, group: str) -> list[NamedRecord]:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.change_group == group, AuditEntry.action == "create")
        ).all()
        out: list[NamedRecord] = []
        for entry in entries:
            if entry.entity not in NAMED:
                continue
            model, kind = NAMED[entry.entity]
            record = session.get(model, entry.entity_id)
            if record is not None:
                account = getattr(record, "account", None)
                out.append(NamedRecord(kind, record.name, account.name if account else None))  # type: ignore[arg-type]
        return out


@cache
def _locked_query(customer: bool) -> Select[Conversation, ChannelIdentity]:
    """Built once: a statement made anew every turn costs more to build and key than to run."""
    return (
        select(Conversation, ChannelIdentity)
        .outerjoin(
            ChannelIdentity,
            and_(
                ChannelIdentity.channel == Conversation.channel,
                ChannelIdentity.external_id == Conversation.external_id,
            ),
        )
        .where(Conversation.channel == bindparam("channel"), Conversation.external_id == bindparam("sender"))
        .options(joinedload(ChannelIdentity.customer if customer else ChannelIdentity.user))
        .with_for_update(of=Conversation)
        .execution_options(populate_existing=True)
    )
