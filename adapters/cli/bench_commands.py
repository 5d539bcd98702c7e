"""`crm bench`: the benchmark from the command line (assistant/bench/ does the work)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.cli.common import CliError, common_options
from adapters.cli.progress import progress_bars

if TYPE_CHECKING:
    from assistant.bench.figures import BenchResult

DEFAULT_DEALS = 100_000
DEFAULT_ROUNDS = 10


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        parents=[common_options()],
        help="benchmark: build a store of N deals and time turns against hand-written SQL",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Build a store of N synthetic deals (accounts, contacts, activities, tasks, 10-20 staff),\n"
            "run a fixed mix of 23 kinds of turns through the real assistant as a rep and as the manager,\n"
            "and print p50/p95 turn latency (parse + database + reply), the latency of the same questions\n"
            "as hand-written SQL on the same store, and their ratio.\n\n"
            "Where it builds: without --db, a fresh temporary SQLite file that is deleted afterwards;\n"
            "CRM_DATABASE_URL and your own database are never used unless you pass --db. With --db the\n"
            "store must be empty (crm bench refuses a store that holds deals), or hold exactly N deals of\n"
            "an earlier crm bench build and be given --reuse. The benchmark's writes are undone as it goes."
        ),
        epilog=(
            "examples:\n"
            "  crm bench --deals 100000\n"
            "  crm bench --deals 1000000 --db postgresql+psycopg://postgres@127.0.0.1/crm_bench_1m --json\n"
            "  crm bench --deals 1000000 --db postgresql+psycopg://... --reuse --rounds 3"
        ),
    )
    bench.add_argument(
        "--deals",
        type=int,
        default=DEFAULT_DEALS,
        metavar="N",
        help=f"deals in the store (default {DEFAULT_DEALS:,})",
    )
    bench.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        metavar="R",
        help=f"times the mix is run after one warm-up round (default {DEFAULT_ROUNDS})",
    )
    bench.add_argument(
        "--reuse",
        action="store_true",
        help="use the --db store if an earlier crm bench built it with N deals",
    )
    bench.add_argument("--seed", type=int, metavar="S", help="seed of the synthetic store (default: fixed)")
    bench.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"deals", "engine", "turn_ms": {"p50", "p95"}, "sql_ms": {...}, '
        '"ratio_p50", ...} with per-kind figures under "kinds"',
    )
    bench.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from assistant.bench import BenchError
    from assistant.bench.runner import run
    from assistant.runtime import Runtime
    from storage.synthetic.store import SEED, SyntheticError

    if args.deals < 1:
        raise CliError("--deals must be at least 1")
    url: str | None = getattr(args, "db", None)
    folder: Path | None = None
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="crm-bench-"))
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
    try:
        runtime = Runtime.from_settings(url, getattr(args, "tz", None), getattr(args, "now", None))
        try:
            with progress_bars("crm bench", quiet=args.json) as report:
                result = run(
                    runtime,
                    args.deals,
                    rounds=args.rounds,
                    reuse=args.reuse,
                    seed=SEED if args.seed is None else args.seed,
                    progress=report,
                )
        finally:
            runtime.close()
    except (BenchError, SyntheticError) as refused:
        raise CliError(str(refused)) from None
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render(result, "a temporary SQLite file" if folder else describe(url)))
    failed = sum(kind.errors for kind in result.kinds.values())
    if failed:
        print(f"crm bench: {failed} turns were answered with an error reply", file=sys.stderr)
        return 1
    return 0


def describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _line(label: str, figures: dict[str, float | None]) -> str:
    return f"{label:<40} p50 {_ms(figures['p50']):>8} ms  p95 {_ms(figures['p95']):>8} ms"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def render(result: BenchResult, where: str) -> str:
    """The figures for people: the headline, the target if there is one, and a table per kind."""
    from adapters.rendering import text_table
    from assistant.messages import Table

    data = result.to_json()
    turn, sql = data["turn_ms"], data["sql_ms"]
    how = f"built in {data['build_s']:.2f} s" if data["built"] else "reused"
    lines = [
        f"crm bench: {data['deals']:,} deals on {data['engine']} ({where}, {how}); "
        f"assistant start-up {data['startup_s']:.2f} s",
        f"{data['turns']} turns: {data['rounds']} rounds of {len(data['kinds'])} kinds, as "
        + " and as ".join(f"{p['role']} {p['name']}" for p in data["personas"]),
        "",
        _line("turn latency (parse + database + reply)", turn),
        _line("same questions as hand-written SQL", sql),
        f"ratio p50 {_times(data['ratio_p50'])} (read turns only: {_times(data['read_ratio_p50'])})",
    ]
    target = data["target"]
    if target is not None:
        goal = (
            f"p50 <= {target['p50_ms']:g} ms, " if target["p50_ms"] else ""
        ) + f"p95 <= {target['p95_ms']:g} ms"
        lines.append(f"target for this size ({goal}): {'met' if target['met'] else 'MISSED'}")
    rows = []
    for key, kind in sorted(data["kinds"].items(), key=lambda item: -(item[1]["p95"] or 0)):
        got = ", ".join(
            intent + (f" x{n}" if len(kind["intents"]) > 1 else "") for intent, n in kind["intents"].items()
        )
        if got and got != kind["expected_intent"]:
            got += f" (expected {kind['expected_intent']})"
        rows.append(
            (
                key,
                str(kind["turns"]),
                _ms(kind["p50"]),
                _ms(kind["p95"]),
                _ms(kind["max"], 1),
                _ms(kind.get("sql_p50")),
                _ms(kind.get("sql_p95")),
                got,
            )
        )
    table = Table(
        ("kind (slowest p95 first)", "turns", "p50 ms", "p95 ms", "max ms", "sql p50", "sql p95", "intent"),
        tuple(rows),
        (False, True, True, True, True, True, True, False),
    )
    lines += ["", *text_table(table)]
    for key, kind in data["kinds"].items():
        if kind["skipped"]:
            lines.append(f"{key}: {kind['skipped']} skipped (no question was asked to answer)")
    for error in data["errors"]:
        lines.append(f"error in {error['kind']} ({error['role']}): {error['text']!r} -> {error['reply']!r}")
    return "\n".join(lines)
