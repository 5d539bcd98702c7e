"""Benchmark of the knowledge-base classifier on CLINC150 (Larson et al. 2019, CC BY 3.0): its `train`
split imported as a knowledge base, one article per intent; the refusal threshold chosen by the
classifier's own cross-validation; scored on `test` plus `oos_test`. Run with `make bench-kb`;
`--intents 30` is the fast version the test suite runs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from intents.kb_classifier import KbClassifier  # noqa: E402
from intents.kb_eval import KbScore, Labelled, labelled_articles, report, score  # noqa: E402
from intents.names import KbArticleText  # noqa: E402

CLINC150 = ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json"


def run(data: Path, intents: int = 0, seed: int = 0) -> tuple[KbScore, float]:
    """Trains on `train` (all intents, or `intents` of them drawn by `seed`) and scores the test sets;
    with fewer intents, the left-out intents' test questions are out of scope too."""
    corpus = json.loads(data.read_text("utf-8"))
    grouped = labelled_articles([(text, label) for text, label in corpus["train"]])
    chosen = sorted(grouped)
    if intents:
        chosen = sorted(random.Random(seed).sample(chosen, intents))
    articles = [KbArticleText(label, label.replace("_", " "), tuple(grouped[label])) for label in chosen]
    began = time.perf_counter()
    classifier = KbClassifier.train(articles)
    trained = time.perf_counter() - began
    known = set(chosen)
    questions = [Labelled(t, label if label in known else None) for t, label in corpus["test"]]
    questions += [Labelled(t, None) for t, _ in corpus["oos_test"]]
    return score(classifier, questions), trained


def scale(data: Path) -> tuple[float, float, float]:
    """Training time (wall clock and CPU) and p95 latency, in seconds, for 300 articles of 100 examples:
    CLINC150's 150 intents, and 150 more made of the same questions about a second product (timing
    only, not accuracy)."""
    corpus = json.loads(data.read_text("utf-8"))
    grouped = labelled_articles([(text, label) for text, label in corpus["train"]])
    articles = [KbArticleText(label, label, tuple(q)) for label, q in grouped.items()]
    articles += [
        KbArticleText(
            f"{label}-mobile", f"{label} in the mobile app", tuple(f"{t} in the mobile app" for t in q)
        )
        for label, q in grouped.items()
    ]
    began, cpu = time.perf_counter(), time.process_time()
    classifier = KbClassifier.train(articles)
    trained, cpu = time.perf_counter() - began, time.process_time() - cpu
    result = score(classifier, [Labelled(t, None) for t, _ in corpus["test"][:2000]])
    return trained, cpu, result.latency(0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=CLINC150, help="CLINC150's data_full.json")
    parser.add_argument("--intents", type=int, default=0, help="only this many intents (0: all 150)")
    parser.add_argument("--seed", type=int, default=0, help="which intents, with --intents")
    parser.add_argument("--errors", type=int, default=0, help="show this many errors")
    parser.add_argument("--scale", action="store_true", help="also time 300 articles x 100 examples")
    args = parser.parse_args()
    result, trained = run(args.data, args.intents, args.seed)
    print(f"CLINC150, {args.intents or 150} intents: trained in {trained:.1f} s")
    print("\n".join(report(result, args.errors)))
    if args.scale:
        trained, cpu, p95 = scale(args.data)
        print(
            f"\n300 articles x 100 examples: trained in {trained:.1f} s ({cpu:.1f} s of CPU), "
            f"p95 latency {p95 * 1000:.2f} ms"
        )


if __name__ == "__main__":
    main()
