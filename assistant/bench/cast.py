"""Who the benchmark talks as and about what: the rep with the most movable accounts, the manager, and
per-round accounts and contacts, drawn from the store with a fixed seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from assistant.bench import BenchError
from assistant.bench.sql_twins import LIVE, OPEN
from storage.models import Account, Contact, Deal, User
from storage.synthetic.store import SEED, staff_emails


@dataclass(frozen=True)
class Persona:
    role: str  # rep or manager
    user_id: int
    name: str
    email: str
    colleague: str  # whose deals "<first name>'s open deals" asks about


@dataclass(frozen=True)
class Cast:
    """Who talks and which records each round talks about, drawn from the store with a fixed seed."""

    personas: tuple[Persona, ...]
    accounts: tuple[str, ...]  # one per round: summary, contacts, a logged call
    contacts: tuple[str, ...]  # one per round: an e-mail asked for, a reminder
    moves: dict[int, tuple[str, ...]]  # user id -> accounts whose deal they move (and undo), one per round

    def names(self, persona: Persona, round_no: int) -> dict[str, str]:
        moves = self.moves[persona.user_id]
        return {
            "colleague_first": persona.colleague.split()[0],
            "account": self.accounts[round_no % len(self.accounts)],
            "contact": self.contacts[round_no % len(self.contacts)],
            "move_account": moves[round_no % len(moves)],
        }


def _sample(rng: random.Random, items: Sequence[Any], n: int) -> tuple[Any, ...]:
    return tuple(rng.sample(list(items), min(n, len(items)))) if items else ()


def pick_cast(connection: Connection, rounds: int, seed: int = SEED) -> Cast:
    """The rep with the most movable accounts, the manager, and per-round accounts and contacts.

    A movable account has two to nine open deals (so "move X to negotiation" asks which one, as it does
    for a real rep) and none in negotiation yet (so the move changes something); small stores fall back
    to any account with two open deals.
    """
    rng = random.Random(seed)
    staff = staff_emails(connection)
    users = {
        email: (uid, name, role)
        for uid, name, email, role in connection.execute(select(User.id, User.name, User.email, User.role))
    }
    managers = [users[e] for _, e, r in staff if r == "manager"]
    reps = [users[e] for _, e, r in staff if r == "rep"]
    if not managers or not reps:
        raise BenchError("the store has no synthetic staff (a rep and a manager); was it built by crm bench?")
    negotiation = func.sum(case((Deal.stage == "negotiation", 1), else_=0))
    rows = connection.execute(
        select(Account.id, Account.name, Account.owner_id, func.count(), negotiation)
        .join(Deal, Deal.account_id == Account.id)
        .where(LIVE, Deal.stage.in_(OPEN), Account.deleted_at.is_(None))
        .group_by(Account.id, Account.name, Account.owner_id)
        .order_by(Account.id)
    ).all()
    movable = [r for r in rows if 2 <= r[3] <= 9 and not r[4]] or [r for r in rows if r[3] >= 2]
    if not movable:
        raise BenchError("no account has two open deals; build a bigger store (--deals)")
    owned: dict[int, list[str]] = {}
    for _aid, name, owner, _n, _neg in movable:
        owned.setdefault(owner, []).append(name)
    rep = max(reps, key=lambda u: (len(owned.get(u[0], ())), -u[0]))
    if rep[0] not in owned:
        raise BenchError("no rep owns an account with two open deals; build a bigger store (--deals)")
    manager = managers[0]
    open_by_owner = dict(
        connection.execute(
            select(Deal.owner_id, func.count()).where(LIVE, Deal.stage.in_(OPEN)).group_by(Deal.owner_id)
        ).all()
    )
    others = [u for u in reps if u[0] != rep[0]] or [rep]
    colleague = max(others, key=lambda u: (open_by_owner.get(u[0], 0), -u[0]))
    personas = (
        Persona("rep", rep[0], rep[1], _email(users, rep[0]), colleague[1]),
        Persona("manager", manager[0], manager[1], _email(users, manager[0]), rep[1]),
    )
    all_movable = [name for _aid, name, *_ in movable]
    moves = {
        rep[0]: _sample(rng, owned[rep[0]], rounds),
        manager[0]: _sample(rng, [n for n in all_movable if n not in owned[rep[0]]] or all_movable, rounds),
    }
    accounts = connection.scalars(
        select(Account.name)
        .where(Account.deleted_at.is_(None), Account.id.in_(select(Contact.account_id)))
        .order_by(Account.id)
    ).all()
    unique_contacts = connection.scalars(
        select(func.min(Contact.name))
        .where(Contact.deleted_at.is_(None))
        .group_by(Contact.name_key)
        .having(func.count() == 1)
        .order_by(func.min(Contact.id))
    ).all()
    return Cast(personas, _sample(rng, accounts, rounds), _sample(rng, unique_contacts, rounds), moves)


def _email(users: dict[str, tuple[int, str, str]], user_id: int) -> str:
    return next(email for email, (uid, _n, _r) in users.items() if uid == user_id)
