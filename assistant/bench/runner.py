"""Running the benchmark: build the synthetic store (or find it built), start the assistant, warm up with
one round, then time each kind of turn and its SQL twin round after round."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from assistant.bench import BenchError
from assistant.bench.cast import Cast, Persona, pick_cast
from assistant.bench.figures import BenchResult, KindFigures
from assistant.bench.mix import MIX
from assistant.bench.sql_twins import Question, SqlTwin
from assistant.engine import Assistant
from assistant.messages import Message, Reply
from assistant.replies import say
from assistant.runtime import Runtime
from storage.db import settle
from storage.synthetic.store import SEED, build, live_deals, marker

CHANNEL = "terminal"
ROUNDS = 10
ERROR_TEXTS = (say("error"), say("store_busy"))

Progress = Callable[[str, int, int], None]  # (phase, done, total); a total of 0 has no count
T = TypeVar("T")


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - began) * 1000


def _is_error(reply: Reply) -> bool:
    return any(text in reply.plain for text in ERROR_TEXTS)


def prepare(
    runtime: Runtime, deals: int, reuse: bool, seed: int, progress: Progress | None = None
) -> tuple[bool, float]:
    """Builds the store (or finds it already built); returns (built, seconds)."""
    runtime.ensure_schema()
    with runtime.engine.connect() as connection:
        existing = live_deals(connection)
        made = marker(connection)
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
            progress("building the store (deals)", done, wanted)

    began = time.perf_counter()
    with runtime.engine.begin() as connection:
        build(connection, deals, runtime.now(), seed=seed, progress=report)
    if progress:
        progress("vacuuming", 0, 0)
    settle(runtime.engine)
    return True, round(time.perf_counter() - began, 2)


def run(
    runtime: Runtime,
    deals: int,
    rounds: int = ROUNDS,
    reuse: bool = False,
    seed: int = SEED,
    progress: Progress | None = None,
) -> BenchResult:
    """Builds or reuses the store, starts the assistant, warms up with one round, then times `rounds`."""
    if rounds < 1:
        raise BenchError("--rounds must be at least 1")
    built, build_s = prepare(runtime, deals, reuse, seed, progress)
    if progress:
        progress("starting the assistant (names index, intent model)", 0, 0)
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
        if progress and round_no:
            progress("timing rounds", round_no - 1, rounds)
        elif progress:
            progress("warming up", 0, 0)
        for persona in cast.personas:
            _round(assistant, runtime, cast, persona, round_no, result if round_no else None)
    if progress:
        progress("timing rounds", rounds, rounds)
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
            partial(assistant.handle, Message(CHANNEL, persona.email, text, sender_is_email=True))
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
