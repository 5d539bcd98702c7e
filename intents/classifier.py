"""The statistical intent classifier: a blank English spaCy pipeline with a bag-of-words text classifier.

It is trained on template expansions (intents/templates) read the same way as live input (placeholders
for names, dates, money), deterministically, and cached on disk under a hash of everything it was
built from; `make install` builds it and any process builds it on first use if it is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, cast

from platformdirs import user_cache_dir

from intents.catalogue import catalogue
from intents.extract import analyse
from intents.names import Kind, NamedRecord, NameIndex, StaticNames
from intents.templates import expand, load_templates, load_values
from intents.vocabulary import common_words

log = logging.getLogger(__name__)
MODEL_ENV = "CRM_NLU_MODEL_DIR"
EXACT_FILE = "exact.json"
COMMON_FILE = "common_words.json"
# read after classifying, or never by it (the KB classifier, the voice model's sampler and its settings)
NOT_IN_MODEL = {
    "slots.py",
    "parser.py",
    "evaluate.py",
    "parse.py",
    "__main__.py",
    "kb_classifier.py",
    "kb_eval.py",
    "speech.py",
    "speech.json",
}
NOT_IN_MODEL_DIRS = {"templates/tests"}  # the per-template test sentences: never training data
PER_INTENT = 1200
MIN_PER_INTENT = 400  # small intents ("yes", "undo") are repeated up to this many examples
EPOCHS = 8
BATCH = 256
NGRAMS = 2
LEARN_RATE = 0.004
TRAIN_NOW = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)


def source_hash(root: Traversable | None = None) -> str:
    """Everything the model is built from: the intents package's code, data and templates, and spaCy.

    Not the per-template test sentences (templates/tests): the model never sees them, so adding or editing
    one neither changes this hash nor retrains the model. `root` is the package folder (a copy, in tests).
    """
    digest = hashlib.sha256(metadata.version("spacy").encode())
    stack: list[tuple[Traversable, str]] = [(root or resources.files("intents"), "")]
    files: list[tuple[str, Traversable]] = []
    while stack:
        entry, folder = stack.pop()
        for child in entry.iterdir():
            path = f"{folder}/{child.name}"  # "/templates/greet.txt": relative, so any checkout agrees
            if child.is_dir():
                if child.name != "__pycache__" and path[1:] not in NOT_IN_MODEL_DIRS:
                    stack.append((child, path))
            elif child.name.endswith((".py", ".json", ".txt")) and child.name not in NOT_IN_MODEL:
                files.append((path, child))
    for path, child in sorted(files, key=lambda pair: pair[0]):
        digest.update(path.encode())
        digest.update(child.read_bytes())
    return digest.hexdigest()[:16]


def model_dir() -> Path:
    base = os.environ.get(MODEL_ENV) or user_cache_dir("crm-assistant", appauthor=False)
    return Path(base) / f"nlu-{source_hash()}"


def training_names() -> StaticNames:
    values = load_values()
    kinds: tuple[tuple[str, Kind], ...] = (("account", "account"), ("contact", "contact"), ("user", "user"))
    return StaticNames([NamedRecord(kind, name) for slot, kind in kinds for name in values.get(slot, [])])


def training_set() -> list[tuple[str, str]]:
    """(features, intent) pairs: expansions read through the live extractor, conflicts dropped."""
    index = NameIndex.build(training_names(), common_words())
    by_features: dict[str, Counter[str]] = {}
    for sentence, intent in expand(load_templates(), PER_INTENT):
        features = analyse(sentence, TRAIN_NOW, index).features()
        by_features.setdefault(features, Counter())[intent] += 1
    data = []
    for features, intents in sorted(by_features.items()):
        (intent, n), *rest = intents.most_common()
        if not rest or n > 2 * rest[0][1]:
            data.append((features, intent))
    return data


def balanced(data: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Repeats the examples of small intents so that each has at least MIN_PER_INTENT."""
    by_intent: dict[str, list[tuple[str, str]]] = {}
    for pair in data:
        by_intent.setdefault(pair[1], []).append(pair)
    out: list[tuple[str, str]] = []
    for pairs in by_intent.values():
        repeat = max(1, -(-MIN_PER_INTENT // len(pairs)))
        out.extend(pairs * repeat)
    return out


def train(path: Path, on_epoch: Callable[[int, int], None] | None = None) -> None:
    """Trains spaCy's bag-of-words text classifier and exports it as a linear model (see LinearModel).

    `on_epoch(done, total)` is called after each training epoch, for a caller that shows progress.
    """
    import spacy
    from spacy.pipeline import TextCategorizer
    from spacy.tokens import Doc
    from spacy.training import Example
    from thinc.api import fix_random_seed  # what spacy.util.fix_random_seed is

    fix_random_seed(0)
    data = training_set()
    labels = sorted(catalogue().intents)
    nlp = spacy.blank("en")
    textcat = cast(  # add_pipe is typed as returning any pipe; "textcat" makes a TextCategorizer
        TextCategorizer,
        nlp.add_pipe(
            "textcat",
            config={
                "model": {
                    "@architectures": "spacy.TextCatBOW.v3",
                    "exclusive_classes": True,
                    "ngram_size": NGRAMS,
                    "no_output_layer": False,
                    "length": 131072,
                }
            },
        ),
    )
    for label in labels:
        textcat.add_label(label)

    def doc(text: str) -> Doc:
        return Doc(nlp.vocab, words=text.split())  # whitespace tokens: the exported model reads the same

    examples = [
        Example.from_dict(doc(text), {"cats": {label: float(label == intent) for label in labels}})
        for text, intent in balanced(data)
    ]
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = LEARN_RATE
    rng = random.Random(0)
    for epoch in range(EPOCHS):
        rng.shuffle(examples)
        for start in range(0, len(examples), BATCH):  # the batches spacy.util.minibatch makes
            nlp.update(examples[start : start + BATCH], sgd=optimizer, drop=0.1)
        if on_epoch is not None:
            on_epoch(epoch + 1, EPOCHS)
    model = LinearModel.export(nlp, [text for text, _ in data])
    for text, _ in data[:: max(1, len(data) // 300)]:  # the export must score exactly as spaCy does
        expected = textcat.predict([doc(text)])[0]
        got = model.probabilities(text)
        if max(abs(float(e) - g) for e, g in zip(expected, got, strict=True)) > 1e-4:
            raise RuntimeError(f"the exported intent model disagrees with spaCy on {text!r}")
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True)
    model.save(tmp)
    (tmp / EXACT_FILE).write_text(json.dumps(dict(data), sort_keys=True), "utf-8")
    (tmp / COMMON_FILE).write_text(json.dumps(sorted(common_words())), "utf-8")
    if path.exists():  # another process finished first: keep its identical model
        shutil.rmtree(tmp)
    else:
        tmp.replace(path)
    log.info("trained the intent model on %d sentences into %s", len(data), path)


def ngrams(text: str) -> Counter[str]:
    """The features spaCy's bag of words counts: each word and each pair of neighbouring words."""
    words = text.split()
    grams: Counter[str] = Counter(words)
    for n in range(2, NGRAMS + 1):
        grams.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


@dataclass
class LinearModel:
    """spaCy's TextCatBOW is linear: softmax(b + sum of a weight row per n-gram, times its count).

    After training, each n-gram seen in training gets its row read out of spaCy's hashed weights, so a
    process that only classifies never imports spaCy (about a second of start-up). An n-gram never
    seen in training has no row; in spaCy it would read whatever a hash collision left in its bucket.
    """

    labels: list[str]
    rows: dict[str, int]
    weights: Any  # numpy (n_grams, n_labels)
    bias: Any  # numpy (n_labels,)

    @classmethod
    def export(cls, nlp: Any, texts: list[str]) -> LinearModel:
        import numpy
        from thinc.api import NumpyOps

        textcat = nlp.get_pipe("textcat")
        linear = next(node for node in textcat.model.walk() if node.name == "sparse_linear")
        grams = sorted(set().union(*(ngrams(t) for t in texts)))
        ops = NumpyOps()
        keys = []
        for gram in grams:
            words = numpy.asarray([nlp.vocab.strings.add(w) for w in gram.split()], dtype="uint64")
            keys.append(words[0] if len(words) == 1 else ops.ngrams(len(words), words)[0])
        batch = (
            numpy.asarray(keys, dtype="uint64"),
            numpy.ones(len(keys), dtype="f"),
            numpy.ones(len(keys), dtype="int32"),
        )
        bias = linear.get_param("b").copy()
        weights = linear.predict(batch) - bias
        return cls(list(textcat.labels), {g: i for i, g in enumerate(grams)}, weights, bias)

    def save(self, folder: Path) -> None:
        import numpy

        numpy.save(folder / "weights.npy", self.weights.astype("float32"))
        numpy.save(folder / "bias.npy", self.bias.astype("float32"))
        (folder / "features.json").write_text(json.dumps({"labels": self.labels, "ngrams": list(self.rows)}))

    @classmethod
    def load(cls, folder: Path) -> LinearModel:
        import numpy

        meta = json.loads((folder / "features.json").read_text("utf-8"))
        rows = {gram: i for i, gram in enumerate(meta["ngrams"])}
        return cls(meta["labels"], rows, numpy.load(folder / "weights.npy"), numpy.load(folder / "bias.npy"))

    def probabilities(self, text: str) -> list[float]:
        import numpy

        scores = self.bias.astype("float64")
        for gram, count in ngrams(text).items():
            row = self.rows.get(gram)
            if row is not None:
                scores = scores + self.weights[row] * count
        exp = numpy.exp(scores - scores.max())
        return [float(p) for p in exp / exp.sum()]


@dataclass
class IntentClassifier:
    """The model, and the training sentences it saw: a sentence seen in training keeps its label."""

    model: LinearModel
    exact: dict[str, str]
    common: frozenset[str]  # words never read as names on their own (intents/vocabulary.py)

    def scores(self, features: str, allowed: frozenset[str] | None = None) -> dict[str, float]:
        """Intent -> probability, over the `allowed` intents only (renormalised)."""
        known = self.exact.get(features)
        if known is not None and (allowed is None or known in allowed):
            return {known: 1.0}
        cats = dict(zip(self.model.labels, self.model.probabilities(features), strict=True))
        kept = {k: v for k, v in cats.items() if allowed is None or k in allowed}
        total = sum(kept.values()) or 1.0
        return {k: v / total for k, v in kept.items()}


def build_model(on_epoch: Callable[[int, int], None] | None = None) -> Path:
    """The folder of this build's model, trained first if it has none yet (see `train` for on_epoch)."""
    path = model_dir()
    if not (path / COMMON_FILE).exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        train(path, on_epoch)
    return path


@cache
def load_classifier() -> IntentClassifier:
    """The cached model, trained first if this build of the templates has none yet."""
    path = build_model()
    exact = json.loads((path / EXACT_FILE).read_text("utf-8"))
    common = frozenset(json.loads((path / COMMON_FILE).read_text("utf-8")))
    return IntentClassifier(LinearModel.load(path), exact, common)
