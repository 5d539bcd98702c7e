"""Chooses `write_sure` (assistant/gate.json): below it, a write the parser read is confirmed first.

The rule, so the number is never tuned by hand: on the labelled sets that are no longer blind
(testset, heldout_b, heldout_c), take the highest threshold on a grid whose needless-confirmation rate
stays within BUDGET (questions asked about writes that were read right, leaving out those a typo'd name
asks whatever the threshold), and report the wrong writes left at each threshold. A blind set measures
the result afterwards (`crm eval-nlu`).

    python tests/nlu/calibrate_gate.py [--write]   # needs nothing but the package and its demo data
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from assistant import admin
from assistant.gate import asks_first
from assistant.nlu import store_parser
from assistant.runtime import Runtime
from intents.evaluate import Report
from intents.parser import Parser

HERE = Path(__file__).parent
GATE = HERE.parents[1] / "assistant" / "gate.json"
SETS = ("testset.jsonl", "heldout_b.jsonl", "heldout_c.jsonl")
GRID = [round(0.45 + 0.05 * i, 2) for i in range(11)]  # 0.45 (the parser's own floor) .. 0.95
BUDGET = 0.03
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def reports(parser: Parser) -> dict[float, Report]:
    out = {t: Report() for t in GRID}
    for name in SETS:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            got = parser.parse(item["text"], NOW, item.get("role", "rep"))
            for threshold, report in out.items():
                asked = asks_first(replace(got, spelt={}), threshold)  # the threshold's own questions
                report.add(item["text"], item["intent"], item["slots"], got.intent, got.slots, asked)
    return out


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--write", action="store_true", help="store the chosen threshold in gate.json")
    options = args.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime.from_settings(f"sqlite:///{folder}/demo.sqlite3", "UTC", NOW.isoformat())
        admin.seed_demo(runtime)
        by_threshold = reports(store_parser(runtime))
        runtime.close()
    print(f"{'threshold':>9}  {'needless':>8}  {'wrong writes':>12}")
    for threshold, report in by_threshold.items():
        print(f"{threshold:>9.2f}  {report.needless_rate:>8.3f}  {len(report.wrong_writes):>12}")
    within = [t for t, r in by_threshold.items() if r.needless_rate <= BUDGET]
    chosen = max(within) if within else GRID[0]
    print(f"write_sure = {chosen} (the highest within a needless-confirmation budget of {BUDGET:.0%})")
    if options.write:
        data = json.loads(GATE.read_text(encoding="utf-8"))
        data["write_sure"] = chosen
        GATE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
