"""The CRM's tables, designed once for the whole product so later work only adds.

Every record table carries created/updated timestamps and a soft-delete marker; times are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from storage.coltypes import UTCDateTime, utcnow

ACTIVITY_TYPES = ("call", "meeting", "email", "note")
TASK_STATUSES = ("open", "done", "cancelled")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")


def name_key(name: str) -> str:
    """The case- and space-insensitive form a name is unique and looked up by."""
    return " ".join(name.casefold().split())


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        Decimal: Numeric(14, 2),
    }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Versioned:
    """A record people change by conversation: each UPDATE carries `WHERE version = :read` and bumps it
    (SQLAlchemy's version_id_col), so a change committed by someone else in between makes the flush
    raise StaleDataError instead of being overwritten; the engine runs the turn again on fresh data."""

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class User(Timestamps, Base):
    """A member of staff: a rep, a manager or an admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str | None] = mapped_column(String(64))
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="user")


class Customer(Timestamps, Base):
    """Someone who talks to the support chatbot: a known contact or an anonymous channel identity."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="customer")


class ChannelIdentity(Base):
    """Who a chat identity (a Slack id, a Telegram chat, an e-mail at the terminal) belongs to."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voice_replies: Mapped[bool | None] = mapped_column(Boolean)  # None: the default (on)
    user: Mapped[User | None] = relationship(back_populates="identities")
    customer: Mapped[Customer | None] = relationship(back_populates="identities")


class Account(Versioned, Timestamps, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        Index(
            "uq_accounts_name_key_live",
            "name_key",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    industry: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(index=True)
    owner: Mapped[User | None] = relationship()


class Contact(Versioned, Timestamps, Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    account: Mapped[Account | None] = relationship()


class Deal(Versioned, Timestamps, Base):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_stage_close_date", "stage", "close_date"),
        Index("ix_deals_owner_stage", "owner_id", "stage"),
        # covers the pipeline aggregates (forecast, won/lost, win rate, by stage or owner) without
        # touching the table
        # amount and id early: "top deals this month" walks each stage's month by amount, index only
        Index(
            "ix_deals_pipeline",
            "stage",
            "close_date",
            "amount",
            "id",
            "closed_on",
            "owner_id",
            "probability",
            "last_activity_at",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # "no activity in N days" counts the recently active deals and takes them from deal_totals;
        # created_at serves the deals without any activity, quiet from their creation
        Index(
            "ix_deals_recent_activity",
            "last_activity_at",
            "created_at",
            "stage",
            "owner_id",
            "close_date",
            "closed_on",
            "amount",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    stage: Mapped[str] = mapped_column(String(40), default="lead")
    probability: Mapped[int] = mapped_column(Integer, default=10)
    close_date: Mapped[date | None] = mapped_column(Date, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_on: Mapped[date | None] = mapped_column(Date, index=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(index=True)
    account: Mapped[Account] = relationship()
    owner: Mapped[User | None] = relationship()


class DealTotal(Base):
    """Live deals counted and summed per (stage, owner, close date, closed on): what the pipeline figures
    are added up from, so "pipeline by stage" on a million deals reads a few thousand rows.

    Written only by database triggers on `deals` (migration 0005), in the same transaction as the deal
    change, so it is always exact; nothing in Python writes it. Amounts are in cents, so the sums are
    exact integers on SQLite too.
    """

    __tablename__ = "deal_totals"
    __table_args__ = (Index("ix_deal_totals_stage_close_date", "stage", "close_date"),)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # stage|owner|close_date|closed_on
    stage: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    close_date: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    deals: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[Decimal] = mapped_column(Numeric(30, 0))
    weighted_cents: Mapped[Decimal] = mapped_column(Numeric(32, 0))  # sum of cents x probability


class Activity(Timestamps, Base):
    """A call, meeting, e-mail or note, and who logged it through which channel."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="terminal")
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()
    deal: Mapped[Deal | None] = relationship()
    user: Mapped[User | None] = relationship()


class Task(Versioned, Timestamps, Base):
    """A follow-up or reminder; `due_at` is when the assignee is reminded."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    due_has_time: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    completed_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    account: Mapped[Account | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    deal: Mapped[Deal | None] = relationship()


class Ticket(Versioned, Timestamps, Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    subject: Mapped[str] = mapped_column(String(500))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer: Mapped[Customer | None] = relationship()
    csat: Mapped[int | None] = mapped_column(Integer)  # the customer's 1-5 rating once it was solved
    csat_asked_at: Mapped[datetime | None] = mapped_column(default=None)  # asked once, never again
    assignee: Mapped[User | None] = relationship()
    messages: Mapped[list[TicketMessage]] = relationship(back_populates="ticket", order_by="TicketMessage.id")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author: Mapped[str] = mapped_column(String(20))  # customer, staff, assistant
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)  # a staff reply taken back (undo)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)  # a staff reply shown to the customer
    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author_user: Mapped[User | None] = relationship()


class KbArticle(Timestamps, Base):
    """A knowledge-base article the support chatbot answers with; `key` is its public id."""

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[KbQuestion]] = relationship(back_populates="article", order_by="KbQuestion.id")


class KbQuestion(Base):
    __tablename__ = "kb_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    article: Mapped[KbArticle] = relationship(back_populates="questions")


class Conversation(Base):
    """One conversation's dialogue state, so any process can continue it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """One change to one record: enough (before and after) for undo to put it back.

    Append-only: the database refuses UPDATE and DELETE on these rows (migration 0010). An undo is new
    rows of action "undo"; see assistant.undone.not_undone for how "undone" is derived.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_user_at", "user_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(20))
    change_group: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(20))  # create, update, undo, import, link, ...
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxMessage(Base):
    """A message the assistant sends on its own (reminder, digest, alert), delivered exactly once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # reminder, digest, alert
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sent, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """A message a store-backed channel delivered: the terminal's inbox and the test channel's record.

    Written in the transaction that marks its outbox row sent, so it exists once per row; deliberately
    not unique on the outbox row, so a test can see a duplicate if the outbox ever made one.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_recipient_seen", "channel", "recipient", "seen_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    worker: Mapped[str | None] = mapped_column(String(100))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column()


class LinkCode(Base):
    """A one-time code a member of staff sends a chat channel to link it to themselves.

    Only the SHA-256 of the normalised code is kept, so a copy of the database links no one.
    """

    __tablename__ = "link_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))  # None: any chat channel
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_by: Mapped[str | None] = mapped_column(String(200))  # the external id that redeemed it


class ChannelCursor(Base):
    """How far a polling channel has read its platform's updates (e.g. "telegram:<bot id>"), so a
    restart or a second process does not handle an update twice."""

    __tablename__ = "channel_cursors"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
