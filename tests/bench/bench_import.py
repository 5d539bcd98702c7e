"""Benchmark: `crm import deals` of N deals (default 100,000) on SQLite and PostgreSQL.

Run with `make bench-import` (or `python tests/bench/bench_import.py --deals 100000 --runs 3`);
prints the median wall time of the whole import (check + write + commit) per engine.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scratch import scratch_database

from assistant import admin
from assistant.runtime import Runtime

STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]


def write_files(folder: Path, deals: int) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    users = folder / "users.csv"
    users.write_text("name,email,role\n" + "".join(f"Rep {i},rep{i}@bench.example,rep\n" for i in range(20)))
    accounts = folder / "accounts.csv"
    n_accounts = max(deals // 100, 1)
    with accounts.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "owner_email"])
        for i in range(n_accounts):
            w.writerow([f"Account {i:06d} Ltd", f"rep{i % 20}@bench.example"])
    deals_file = folder / "deals.csv"
    start = date(2026, 1, 1)
    with deals_file.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "account", "amount", "stage", "close_date", "owner_email", "created_at"])
        for i in range(deals):
            w.writerow(
                [
                    f"Deal {i:07d}",
                    f"Account {i % n_accounts:06d} Ltd",
                    rng.randrange(1000, 500000, 500),
                    rng.choice(STAGES),
                    (start + timedelta(days=rng.randrange(365))).isoformat(),
                    f"rep{rng.randrange(20)}@bench.example",
                    "2026-01-01T09:00",
                ]
            )
    return users, accounts, deals_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        users, accounts, deals = write_files(folder, args.deals)
        for engine in args.engines.split(","):
            times = []
            for _ in range(args.runs):
                with scratch_database(engine, folder, args.postgres) as url:
                    runtime = Runtime(url, ZoneInfo("UTC"))
                    runtime.ensure_schema()
                    admin.import_file(runtime, "users", users)
                    admin.import_file(runtime, "accounts", accounts)
                    began = time.perf_counter()
                    result = admin.import_file(runtime, "deals", deals)
                    times.append(time.perf_counter() - began)
                    assert result.created == args.deals
                    runtime.close()
            runs = ", ".join(f"{t:.2f}" for t in times)
            print(
                f"import {args.deals:,} deals on {engine}: "
                f"median {statistics.median(times):.2f} s (runs: {runs})"
            )


if __name__ == "__main__":
    main()
