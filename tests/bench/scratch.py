"""A throwaway database for one benchmark run: a SQLite file in `folder`, or a PostgreSQL database
created beside the one `postgres` names and dropped afterwards."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(engine: str, folder: Path, postgres: str) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}"
        return
    name = f"crm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_options(description: str, count: str, default: int) -> argparse.Namespace:
    """The load benchmarks' flags: how many (`--events`, `--visitors`, `--updates`), how many runs, on
    which engine, and where PostgreSQL is."""
    return load_parser(description, count, default).parse_args()


def load_parser(description: str, count: str, default: int) -> argparse.ArgumentParser:
    """load_options' parser, for a benchmark with flags of its own to add."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(f"--{count}", type=int, default=default)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "CRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server to create the scratch databases on (default: CRM_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--json", action="store_true")
    return parser


def each_run(
    args: argparse.Namespace, one_run: Callable[[str, int], dict[str, float]]
) -> list[dict[str, float]]:
    """`one_run(url, n)` for every run, each on a fresh scratch database."""
    with tempfile.TemporaryDirectory() as folder:
        runs = []
        for n in range(args.runs):
            with scratch_database(args.engine, Path(folder), args.postgres) as url:
                runs.append(one_run(url, n))
        return runs


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0]}
