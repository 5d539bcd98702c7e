"""Benchmark of the parser: p50/p95 latency per utterance over the held-out test set, with 100 and with
100,000 account names in the index, and the start-up time of `crm parse`.

Run with `make bench-nlu`. Figures are medians over --runs repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "nlu"))

from conftest import demo_names  # noqa: E402

from intents.names import NamedRecord, StaticNames  # noqa: E402
from intents.parser import Parser  # noqa: E402
from storage.synthetic.names import words as name_lists  # noqa: E402

TESTSET = HERE.parents[1] / "nlu" / "testset.jsonl"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SUFFIXES = ["Ltd", "Inc", "Corporation", "GmbH", "LLC", "Group", "Systems", "Labs", "Partners", ""]


def synthetic_accounts(n: int) -> list[NamedRecord]:
    rng = random.Random(1)
    names: set[str] = set()
    while len(names) < n:
        words = [
            "".join(rng.choices(name_lists("syllables"), k=rng.randint(2, 3))).title()
            for _ in range(rng.randint(1, 2))
        ]
        names.add(" ".join([*words, rng.choice(SUFFIXES)]).strip())
    return [NamedRecord("account", name) for name in sorted(names)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(parser: Parser, items: list[dict]) -> tuple[float, float]:
    times = []
    for item in items:
        began = time.perf_counter()
        parser.parse(item["text"], NOW, item.get("role", "rep"))
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def startup(runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{tmp}/crm.sqlite3"}
        crm = str(Path(sys.executable).with_name("crm"))
        subprocess.run([crm, "demo"], env=env, check=True, capture_output=True)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run([crm, "parse", "log a call with acme"], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = [json.loads(line) for line in TESTSET.read_text().splitlines()]
    demo = demo_names()
    results = {}
    for size in (100, 100_000):
        extra = synthetic_accounts(max(size - 40, 0))
        began = time.perf_counter()
        index_parser = Parser.build(StaticNames([*demo.items, *extra], demo.kb))
        build = time.perf_counter() - began
        latency(index_parser, items[:50])  # warm up
        runs = [latency(index_parser, items) for _ in range(args.runs)]
        results[size] = {
            "p50_ms": round(statistics.median(r[0] for r in runs), 3),
            "p95_ms": round(statistics.median(r[1] for r in runs), 3),
            "index_build_s": round(build, 2),
        }
    results["startup_s"] = round(startup(args.runs), 2)
    if args.json:
        print(json.dumps(results))
        return
    for size in (100, 100_000):
        r = results[size]
        print(
            f"{size:>7,} names: p50 {r['p50_ms']:.2f} ms  p95 {r['p95_ms']:.2f} ms  "
            f"(index built in {r['index_build_s']} s)"
        )
    print(f"crm parse start-up (demo store, one utterance): median {results['startup_s']:.2f} s")


if __name__ == "__main__":
    main()
