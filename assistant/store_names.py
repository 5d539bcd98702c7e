"""The parser's narrow window on the store: names of live records and knowledge-base questions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker

from intents.names import KbArticleText, NamedRecord
from storage.models import Account, Contact, Deal, KbArticle, User


@dataclass
class StoreNames:
    """A NameSource reading the store; `version()` changes whenever a named record does."""

    sessions: sessionmaker[Session]

    def records(self) -> Iterable[NamedRecord]:
        account = aliased(Account)
        with self.sessions() as session:
            for (name,) in session.execute(select(Account.name).where(Account.deleted_at.is_(None))):
                yield NamedRecord("account", name)
            live = Contact.deleted_at.is_(None)
            query = select(Contact.name, account.name).outerjoin(account, Contact.account_id == account.id)
            for name, account_name in session.execute(query.where(live)):
                yield NamedRecord("contact", name, account_name)
            query = select(Deal.name, account.name).join(account, Deal.account_id == account.id)
            for name, account_name in session.execute(query.where(Deal.deleted_at.is_(None))):
                yield NamedRecord("deal", name, account_name)
            for (name,) in session.execute(select(User.name).where(User.deleted_at.is_(None))):
                yield NamedRecord("user", name)

    def articles(self) -> Iterable[KbArticleText]:
        with self.sessions() as session:
            query = (
                select(KbArticle)
                .where(KbArticle.deleted_at.is_(None))
                .options(selectinload(KbArticle.questions))
            )
            return [
                KbArticleText(a.key, a.title, tuple(q.question for q in a.questions), a.answer)
                for a in session.scalars(query)
            ]

    def version(self) -> tuple[object, ...]:
        """Cheap to ask (two index look-ups per table, in one round trip): the newest id and the newest
        change of each named table, so a new, renamed or deleted record shows."""
        with self.sessions() as session:
            return tuple(session.execute(_NEWEST).one())


_NEWEST = select(  # built once: asked after every write
    *(
        select(aggregate).scalar_subquery()
        for m in (Account, Contact, Deal, User, KbArticle)
        for aggregate in (func.max(m.id), func.max(m.updated_at))
    )
)
