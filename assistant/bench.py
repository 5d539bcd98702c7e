"""`crm bench`: how fast a turn is on a big store, and how that compares with the SQL it stands for.

A turn is timed whole, as a user waits for it: `Assistant.handle` (parse, dialogue, the skill's
queries, the audit and state writes, the commit, the reply). The same read questions are then asked
as hand-written SQL on the same store, timed the same way (one transaction each), so the ratio says
how much the assistant adds on top of the database, and a slow kind can be told apart from a slow store.

The mix is fixed: 23 kinds of turns (reads, writes, a question and its answer, undo, small talk), as a
rep and as the manager, with names drawn deterministically from the store; the writes are undone in
the same round, so every round meets the same store.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from assistant.engine import Assistant
from assistant.messages import Message, Reply
from assistant.replies import say
from assistant.runtime import Runtime
from storage import synthetic
from storage.db import settle
from storage.models import Account, Activity, Contact, Deal, Task, User, name_key
from storage.pipeline import default_pipeline

CHANNEL = "terminal"
ROUNDS = 10
LIST_LIMIT = 10  # what query_deals shows; the SQL twins fetch the same
TASK_LIMIT = 50
STALE_DAYS = 14
BIG_DEAL = 50_000
ERROR_TEXTS = (say("error"), say("store_busy"))
TARGETS = {  # engine: (deals, p50 ms or None, p95 ms), from the issue that asked for the benchmark
    "sqlite": (100_000, 15.0, 50.0),
    "postgresql": (1_000_000, None, 100.0),
}

Progress = Callable[[str], None]


class BenchError(Exception):
    """The benchmark cannot run on this store, said so the user can fix it."""


# the questions as hand-written SQL ------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What one SQL twin needs: who asks, the names the turn mentioned, and the calendar of `now`."""

    user_id: int
    colleague: str  # a full name
    account: str
    contact: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()

    def month(self) -> tuple[date, date]:
        first = self.today.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt - timedelta(days=1)

    def quarter(self, back: int = 0) -> tuple[date, date]:
        index = self.today.year * 4 + (self.today.month - 1) // 3 - back
        first = date(index // 4, 3 * (index % 4) + 1, 1)
        nxt = (first + timedelta(days=95)).replace(day=1)
        return first, nxt - timedelta(days=1)

    def year(self) -> tuple[date, date]:
        return date(self.today.year, 1, 1), date(self.today.year, 12, 31)


SqlTwin = Callable[[Connection, Question], object]
OPEN = default_pipeline().open_keys
LIVE = Deal.deleted_at.is_(None)


def _deals(connection: Connection, where: Sequence[Any], order: Sequence[Any]) -> object:
    """A deal list as query_deals answers it: the first rows with account and owner, and the totals."""
    rows = connection.execute(
        select(Deal.name, Account.name, Deal.stage, Deal.amount, Deal.close_date, User.name)
        .join(Account, Account.id == Deal.account_id)
        .outerjoin(User, User.id == Deal.owner_id)
        .where(LIVE, *where)
        .order_by(*order)
        .limit(LIST_LIMIT)
    ).all()
    totals = connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount), 0)).where(LIVE, *where)
    ).one()
    return rows, totals


def sql_top_deals_month(connection: Connection, ask: Question) -> object:
    first, last = ask.month()
    where = (Deal.stage.in_(OPEN), Deal.close_date.between(first, last))
    return _deals(connection, where, (Deal.amount.desc().nulls_last(), Deal.id))


def sql_closing_quarter_over(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter()
    where = (Deal.stage.in_(OPEN), Deal.close_date.between(first, last), Deal.amount >= BIG_DEAL)
    return _deals(connection, where, (Deal.close_date, Deal.id))


def sql_colleague_open_deals(connection: Connection, ask: Question) -> object:
    owner = select(User.id).where(User.name == ask.colleague, User.deleted_at.is_(None)).scalar_subquery()
    return _deals(connection, (Deal.stage.in_(OPEN), Deal.owner_id == owner), (Deal.close_date, Deal.id))


def sql_my_open_deals(connection: Connection, ask: Question) -> object:
    where = (Deal.stage.in_(OPEN), Deal.owner_id == ask.user_id)
    return _deals(connection, where, (Deal.close_date, Deal.id))


def sql_stale_deals(connection: Connection, ask: Question) -> object:
    since = ask.now - timedelta(days=STALE_DAYS)
    quiet = Deal.last_activity_at.is_(None) | (Deal.last_activity_at < since)
    return _deals(connection, (Deal.stage.in_(OPEN), quiet), (Deal.close_date, Deal.id))


def sql_pipeline_by_stage(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Deal.stage, func.count(), func.sum(Deal.amount))
        .where(LIVE, Deal.stage.in_(OPEN))
        .group_by(Deal.stage)
    ).all()


def sql_pipeline_by_rep(connection: Connection, ask: Question) -> object:
    by_owner = (
        select(Deal.owner_id, func.count().label("n"), func.sum(Deal.amount).label("amount"))
        .where(LIVE, Deal.stage.in_(OPEN))
        .group_by(Deal.owner_id)
        .subquery()
    )
    return connection.execute(
        select(User.name, by_owner.c.n, by_owner.c.amount).outerjoin_from(
            by_owner, User, User.id == by_owner.c.owner_id
        )
    ).all()


def sql_forecast_quarter(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter()
    return connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount * Deal.probability) / 100, 0)).where(
            LIVE, Deal.stage.in_(OPEN), Deal.close_date.between(first, last)
        )
    ).one()


def sql_win_rate_year(connection: Connection, ask: Question) -> object:
    first, last = ask.year()
    return connection.execute(
        select(func.count(), func.sum(case((Deal.stage == "won", 1), else_=0))).where(
            LIVE, Deal.stage.in_(("won", "lost")), Deal.closed_on.between(first, last)
        )
    ).one()


def sql_won_last_quarter(connection: Connection, ask: Question) -> object:
    first, last = ask.quarter(back=1)
    return connection.execute(
        select(func.count(), func.coalesce(func.sum(Deal.amount), 0)).where(
            LIVE, Deal.stage == "won", Deal.closed_on.between(first, last)
        )
    ).one()


def sql_account_summary(connection: Connection, ask: Question) -> object:
    account = connection.execute(
        select(Account.id, Account.name, Account.industry, User.name)
        .outerjoin(User, User.id == Account.owner_id)
        .where(Account.name_key == name_key(ask.account), Account.deleted_at.is_(None))
    ).first()
    if account is None:
        return None
    deals = connection.execute(
        select(Deal.name, Deal.stage, Deal.amount, Deal.close_date)
        .where(LIVE, Deal.account_id == account.id, Deal.stage.in_(OPEN))
        .order_by(Deal.close_date)
    ).all()
    last = connection.execute(
        select(Activity.type, Activity.occurred_at, Activity.notes)
        .where(Activity.account_id == account.id, Activity.deleted_at.is_(None))
        .order_by(Activity.occurred_at.desc())
        .limit(1)
    ).first()
    tasks = connection.scalar(
        select(func.count()).where(
            Task.account_id == account.id, Task.status == "open", Task.deleted_at.is_(None)
        )
    )
    return account, deals, last, tasks


def sql_account_contacts(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Contact.name, Contact.title, Contact.email, Contact.phone)
        .join(Account, Account.id == Contact.account_id)
        .where(
            Account.name_key == name_key(ask.account),
            Account.deleted_at.is_(None),
            Contact.deleted_at.is_(None),
        )
        .order_by(Contact.name)
    ).all()


def sql_contact_email(connection: Connection, ask: Question) -> object:
    return connection.execute(
        select(Contact.name, Contact.email)
        .where(Contact.name_key == name_key(ask.contact), Contact.deleted_at.is_(None))
        .limit(1)
    ).first()


def _tasks(connection: Connection, ask: Question, *where: Any) -> object:
    return connection.execute(
        select(Task.due_at, Task.title, Account.name)
        .outerjoin(Account, Account.id == Task.account_id)
        .where(Task.assignee_id == ask.user_id, Task.status == "open", Task.deleted_at.is_(None), *where)
        .order_by(Task.due_at)
        .limit(TASK_LIMIT)
    ).all()


def sql_tasks_today(connection: Connection, ask: Question) -> object:
    start = datetime.combine(ask.today, datetime.min.time(), ask.now.tzinfo)
    return _tasks(connection, ask, and_(Task.due_at >= start, Task.due_at < start + timedelta(days=1)))


def sql_overdue_tasks(connection: Connection, ask: Question) -> object:
    return _tasks(connection, ask, Task.due_at < ask.now)


# the mix ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of turn: its text (with {names} from the cast), the intent it should get, its SQL twin."""

    key: str
    text: str
    intent: str
    sql: SqlTwin | None = None
    answers_choice: bool = False  # sent only when the turn before asked "which one?"


MIX: tuple[Kind, ...] = (
    Kind("greet", "hi", "greet"),
    Kind("help", "help", "help"),
    Kind("top_deals_month", "top deals this month", "query_deals", sql_top_deals_month),
    Kind(
        "closing_quarter_over_50k",
        "deals closing this quarter over 50k",
        "query_deals",
        sql_closing_quarter_over,
    ),
    Kind("colleague_open_deals", "{colleague_first}'s open deals", "query_deals", sql_colleague_open_deals),
    Kind("my_open_deals", "my open deals", "query_deals", sql_my_open_deals),
    Kind("pipeline_by_stage", "pipeline by stage", "pipeline_report", sql_pipeline_by_stage),
    Kind("pipeline_by_rep", "pipeline by rep", "pipeline_report", sql_pipeline_by_rep),
    Kind("forecast_quarter", "forecast this quarter", "pipeline_report", sql_forecast_quarter),
    Kind("win_rate_year", "win rate this year", "pipeline_report", sql_win_rate_year),
    Kind("won_last_quarter", "how much did we close last quarter", "pipeline_report", sql_won_last_quarter),
    Kind("stale_deals", "deals with no activity in two weeks", "query_deals", sql_stale_deals),
    Kind("account_summary", "tell me about {account}", "account_summary", sql_account_summary),
    Kind("account_contacts", "who's our contact at {account}", "find_contact", sql_account_contacts),
    Kind("contact_email", "what's {contact}'s email", "find_contact", sql_contact_email),
    Kind("tasks_today", "what's on my plate today", "list_tasks", sql_tasks_today),
    Kind("overdue_tasks", "overdue follow-ups", "list_tasks", sql_overdue_tasks),
    Kind("log_call", "log a call with {account} about pricing", "log_activity"),
    Kind("undo", "undo", "undo"),
    Kind("create_reminder", "remind me to call {contact} tomorrow at 10", "create_task"),
    Kind("undo", "undo", "undo"),
    Kind("move_stage", "move {move_account} to negotiation", "update_deal"),
    # "which deal do you mean?" is asked unless the conversation already points at one of the account's
    # deals (as it does when a small store gives a persona the same account again)
    Kind("choose_deal", "1", "update_deal", answers_choice=True),
    Kind("undo", "undo", "undo"),
    Kind("out_of_scope", "what's the weather", "out_of_scope"),
)


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


def pick_cast(connection: Connection, rounds: int, seed: int = synthetic.SEED) -> Cast:
    """The rep with the most movable accounts, the manager, and per-round accounts and contacts.

    A movable account has two to nine open deals (so "move X to negotiation" asks which one, as it does
    for a real rep) and none in negotiation yet (so the move changes something); small stores fall back
    to any account with two open deals.
    """
    rng = random.Random(seed)
    staff = synthetic.staff_emails(connection)
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


# timing and figures ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so small samples are not rounded up."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _figures(values: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 in ms; None (JSON null, never NaN) when nothing was timed."""
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}


@dataclass
class KindFigures:
    intent: str  # the intent the kind should get
    turns: list[float] = field(default_factory=list)  # ms
    sql: list[float] = field(default_factory=list)  # ms
    intents: dict[str, int] = field(default_factory=dict)  # what it got, and how often
    errors: int = 0
    skipped: int = 0  # an answer with no question before it
    reply: str = ""  # the last reply's first line, to see what was answered

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"turns": len(self.turns), **_figures(self.turns)}
        out["max"] = round(max(self.turns), 2) if self.turns else None
        if self.sql:
            out["sql_p50"], out["sql_p95"] = _figures(self.sql).values()
        out.update(expected_intent=self.intent, intents=self.intents, errors=self.errors)
        out.update(skipped=self.skipped, reply=self.reply)
        return out


@dataclass
class BenchResult:
    deals: int
    engine: str
    rounds: int
    built: bool
    build_s: float
    startup_s: float
    personas: list[dict[str, str]]
    kinds: dict[str, KindFigures]
    errors: list[dict[str, str]] = field(default_factory=list)
    bench_s: float = 0.0

    @property
    def turns(self) -> list[float]:
        return [t for k in self.kinds.values() for t in k.turns]

    @property
    def sql(self) -> list[float]:
        return [t for k in self.kinds.values() for t in k.sql]

    @property
    def read_turns(self) -> list[float]:
        """Turns of the kinds that have a SQL twin: the like-for-like side of the ratio."""
        return [t for k in self.kinds.values() if k.sql for t in k.turns]

    def ratio_p50(self, turns: Sequence[float]) -> float | None:
        """Turn p50 / SQL p50: how many times the SQL's own time a turn takes (None if not measurable)."""
        sql = percentile(self.sql, 0.5)
        if not turns or not self.sql or sql <= 0:
            return None
        return round(percentile(turns, 0.5) / sql, 2)

    def target(self) -> dict[str, Any] | None:
        """The issue's target for this engine, when the store is that size; None otherwise."""
        goal = TARGETS.get(self.engine)
        if goal is None or self.deals != goal[0]:
            return None
        p50, p95 = percentile(self.turns, 0.5), percentile(self.turns, 0.95)
        met = p95 <= goal[2] and (goal[1] is None or p50 <= goal[1])
        return {"p50_ms": goal[1], "p95_ms": goal[2], "met": met}

    def to_json(self) -> dict[str, Any]:
        return {
            "deals": self.deals,
            "engine": self.engine,
            "turn_ms": _figures(self.turns),
            "sql_ms": _figures(self.sql),
            "ratio_p50": self.ratio_p50(self.turns),
            "read_ratio_p50": self.ratio_p50(self.read_turns),
            "turns": len(self.turns),
            "rounds": self.rounds,
            "kinds": {key: figures.to_json() for key, figures in self.kinds.items()},
            "personas": self.personas,
            "built": self.built,
            "build_s": self.build_s,
            "startup_s": self.startup_s,
            "bench_s": round(self.bench_s, 2),
            "target": self.target(),
            "errors": self.errors,
        }


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - began) * 1000


def _is_error(reply: Reply) -> bool:
    return any(text in reply.plain for text in ERROR_TEXTS)


# running it ------------------------------------------------------------------------------------------


def prepare(
    runtime: Runtime, deals: int, reuse: bool, seed: int, progress: Progress | None = None
) -> tuple[bool, float]:
    """Builds the store (or finds it already built); returns (built, seconds)."""
    runtime.ensure_schema()
    with runtime.engine.connect() as connection:
        existing = synthetic.live_deals(connection)
        made = synthetic.marker(connection)
    if existing:
        if reuse and made is not None and made.get("deals") == deals and existing == deals:
            return False, 0.0
        if reuse:
            raise BenchError(
                f"--reuse needs a store built by crm bench with exactly {deals:,} deals; this one holds "
                f"{existing:,} deals{' (not built by crm bench)' if made is None else ''}"
            )
        raise BenchError(
            f"the store already holds {existing:,} deals; crm bench builds its own store: give an empty "
            "--db, leave --db out for a temporary SQLite file, or add --reuse for a store it built before"
        )

    def report(done: int, wanted: int) -> None:
        if progress:
            progress(f"building: {done:,} of {wanted:,} deals")

    began = time.perf_counter()
    with runtime.engine.begin() as connection:
        synthetic.build(connection, deals, runtime.now(), seed=seed, progress=report)
    if progress:
        progress("vacuuming")
    settle(runtime.engine)
    return True, round(time.perf_counter() - began, 2)


def run(
    runtime: Runtime,
    deals: int,
    rounds: int = ROUNDS,
    reuse: bool = False,
    seed: int = synthetic.SEED,
    progress: Progress | None = None,
) -> BenchResult:
    """Builds or reuses the store, starts the assistant, warms up with one round, then times `rounds`."""
    if rounds < 1:
        raise BenchError("--rounds must be at least 1")
    built, build_s = prepare(runtime, deals, reuse, seed, progress)
    if progress:
        progress("starting the assistant (names index, intent model)")
    assistant, startup_ms = _timed(lambda: Assistant(runtime))
    with runtime.engine.connect() as connection:
        cast = pick_cast(connection, rounds + 1, seed)
    result = BenchResult(
        deals=deals,
        engine=runtime.engine.dialect.name,
        rounds=rounds,
        built=built,
        build_s=build_s,
        startup_s=round(startup_ms / 1000, 2),
        personas=[{"role": p.role, "name": p.name, "email": p.email} for p in cast.personas],
        kinds={},
    )
    began = time.perf_counter()
    for round_no in range(rounds + 1):  # round 0 warms caches, the intent model and the connection pool
        if progress:
            progress(f"round {round_no} of {rounds}" if round_no else "warming up")
        for persona in cast.personas:
            _round(assistant, runtime, cast, persona, round_no, result if round_no else None)
    result.bench_s = time.perf_counter() - began
    return result


def _round(
    assistant: Assistant,
    runtime: Runtime,
    cast: Cast,
    persona: Persona,
    round_no: int,
    result: BenchResult | None,
) -> None:
    names = cast.names(persona, round_no)
    colleague = persona.colleague
    ask = Question(persona.user_id, colleague, names["account"], names["contact"], runtime.now())
    asked = False
    for kind in MIX:
        if kind.answers_choice and not asked:
            if result is not None:
                result.kinds.setdefault(kind.key, KindFigures(kind.intent)).skipped += 1
            continue
        text = kind.text.format(**names)
        reply, turn_ms = _timed(
            lambda text=text: assistant.handle(Message(CHANNEL, persona.email, text, sender_is_email=True))
        )
        sql_ms = None
        if kind.sql is not None:
            twin = kind.sql

            def ask_sql(twin: SqlTwin = twin) -> object:
                with runtime.engine.begin() as connection:
                    return twin(connection, ask)

            _, sql_ms = _timed(ask_sql)
        asked = any(button.kind == "choose" for button in reply.buttons)
        if result is None:
            continue
        figures = result.kinds.setdefault(kind.key, KindFigures(kind.intent))
        figures.turns.append(turn_ms)
        if sql_ms is not None:
            figures.sql.append(sql_ms)
        got = reply.intent or "-"
        figures.intents[got] = figures.intents.get(got, 0) + 1
        figures.reply = reply.plain.split("\n")[0][:160]
        if _is_error(reply):
            figures.errors += 1
            if len(result.errors) < 20:
                result.errors.append(
                    {"kind": kind.key, "role": persona.role, "text": text, "reply": reply.plain[:300]}
                )
