"""The knowledge-base classifier: which article answers a customer's question, and whether to answer at all.

A linear support-vector model over word (1-2) and character (2-5) n-grams, trained on the articles' own
example questions and titles, with small talk and errands (the intent model's out-of-scope templates)
as a class of their own. Its best article's score becomes a confidence through a calibration learnt by
cross-validation on the knowledge base itself: some questions of every article are held out (they should
be answered) and some whole articles are held out (their questions stand for what the knowledge base
does not cover, and should be refused). The refusal threshold is the score that best balances the two,
so no one tunes it by hand for a knowledge base.

Articles are read through the parser's narrow interface (`KbArticleText`), never from the store. A
trained classifier is cached by a hash of the articles: in memory, and on disk in the model cache so
a restart does not train again. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from platformdirs import user_cache_dir
from scipy import sparse
from sklearn import config_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.svm import LinearSVC

from intents.names import KbArticleText
from intents.templates import load_templates, load_values, sample

log = logging.getLogger(__name__)
CACHE_ENV = "CRM_NLU_MODEL_DIR"  # the intent model's cache folder; the KB models sit beside it
FOLDS = 5  # the articles fall in this many groups; a cross-validation round holds out one group...
ROUNDS = 3  # ...in this many rounds (not all five: training time)
LENT = 10  # each round also holds out every tenth question of the other articles
THREADS = 2
MAX_LOST = 0.02  # of the held-out questions answered right, at most this share is refused...
MIN_LOST_SEEN = 5  # ...when that share is at least this many questions
MIN_QUESTIONS = 2  # an article needs this many examples to lend some to cross-validation
C = 1.0  # the SVM's regularisation
WORKING_SET = 500  # a class's SVM starts from its own examples and this many others, the nearest...
GROWTH = 1000  # ...and takes at most this many more examples inside its margin at a time
BLOCK = 64  # classes whose working sets grow together
FOREIGN = ""  # the label of the foreign sentences' class: no article's key is empty
CV_ARTICLES = 150  # cross-validation asks at most this many articles (training time)
FALLBACK_THRESHOLD = 0.0  # a knowledge base too small to cross-validate answers above the SVM margin
KEEP_ON_DISK = 4  # trained classifiers kept in the cache folder, the newest first

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class KbGuess:
    """The best article for a question, the estimated chance that answering it is right, and whether
    that chance is enough to answer (below the knowledge base's threshold the bot says it is not sure)."""

    article: str
    confidence: float
    sure: bool


@dataclass
class Vectoriser:
    """TF-IDF over word (1-2) and character (2-5) n-grams, side by side (FeatureUnion's machinery costs
    more than the transform itself for one question)."""

    words: TfidfVectorizer
    chars: TfidfVectorizer

    @classmethod
    def fitted(cls, texts: list[str]) -> tuple[Vectoriser, Any]:
        """The vectoriser fit on `texts`, and their rows: each text is analysed once, not once to fit
        and again to transform."""
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, strip_accents="unicode"
        )
        rows = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)], format="csr")
        return cls(words, chars), rows

    def transform(self, texts: list[str]) -> Any:
        return sparse.hstack([self.words.transform(texts), self.chars.transform(texts)], format="csr")

    def one(self, text: str) -> Any:
        """`transform([text])`, computed directly: scikit-learn's checks cost more than the arithmetic
        for a single question."""
        columns: list[int] = []
        values: list[float] = []
        offset = 0
        for vectoriser in (self.words, self.chars):
            vocabulary, idf = vectoriser.vocabulary_, vectoriser.idf_
            counts = Counter(vectoriser.build_analyzer()(text))
            found = [(vocabulary[gram], n) for gram, n in counts.items() if gram in vocabulary]
            weights = np.array([(1.0 + np.log(n)) * idf[i] for i, n in found])
            norm = float(np.linalg.norm(weights)) or 1.0
            columns += [offset + i for i, _ in found]
            values += list(weights / norm)
            offset += len(idf)
        return sparse.csr_matrix((values, columns, [0, len(columns)]), shape=(1, offset))


def _examples(articles: Sequence[KbArticleText]) -> tuple[list[str], list[str]]:
    """(text, article key) for every example question and title."""
    texts: list[str] = []
    keys: list[str] = []
    for article in articles:
        for text in (*article.questions, article.title):
            if text and text.strip():
                texts.append(text)
                keys.append(article.key)
    return texts, keys


@dataclass
class Linear:
    """One-vs-rest linear scores, as LinearSVC learns them: one row of weights per class."""

    classes: NDArray[np.str_]
    weights: NDArray[np.float32]  # (features, classes), in the order a sparse product reads fastest
    bias: NDArray[np.float32]

    def scores(self, rows: Any) -> Floats:
        product = sparse.csr_matrix(rows, dtype=np.float32) @ self.weights  # float32: no copy of weights
        return np.asarray(product + self.bias, dtype=np.float64)


def _fit(rows: Any, labels: NDArray[np.str_], only: frozenset[str] | None = None) -> Linear:
    """Learns one-vs-rest models for the classes in `only` (all when None), each the binary SVM that
    LinearSVC learns over all the rows (every other row a negative example): a class's model is the
    same whichever classes are learnt beside it.

    Each is fit on a working set: the class's own examples and the WORKING_SET other examples nearest
    its centroid, grown by the other examples inside the margin (a score above -1; at most GROWTH at a
    time, the highest first) and fit again until none is. An example outside the margin adds nothing
    to the squared hinge loss, nor to its gradient, so the model is the one a fit on all the rows finds
    (within the solver's tolerance), from a fraction of them. The classes advance together, BLOCK at a
    time, so that one sparse product scores a block's rows at each step."""
    rows = sparse.csr_matrix(rows)
    classes = np.unique(labels)
    if only is not None:
        classes = classes[np.isin(classes, list(only))]
    parts = [_fit_block(rows, labels, classes[i : i + BLOCK]) for i in range(0, len(classes), BLOCK)]
    return Linear(
        classes,
        np.hstack([p.weights for p in parts]) if parts else np.zeros((rows.shape[1], 0), np.float32),
        np.concatenate([p.bias for p in parts]) if parts else np.zeros(0, np.float32),
    )


def _fit_block(rows: Any, labels: NDArray[np.str_], classes: NDArray[np.str_]) -> Linear:
    """`_fit` for a few classes (its arrays hold a score per row and class)."""
    positive = np.asfortranarray(labels[:, None] == classes[None, :])  # (rows, classes), by class
    centroids = sparse.csr_matrix(positive.T, dtype=np.float64) @ rows / positive.sum(axis=0)[:, None]
    similarity = np.asfortranarray(rows @ np.asarray(centroids.T.todense()))
    similarity[positive] = -np.inf
    chosen = positive.copy(order="F")
    nearest = min(WORKING_SET, rows.shape[0] - int(positive.sum(axis=0).max()))
    for column in range(len(classes) if nearest > 0 else 0):
        chosen[np.argpartition(-similarity[:, column], nearest - 1)[:nearest], column] = True
    weights = np.zeros((len(classes), rows.shape[1]))  # by class, transposed at the end
    bias = np.zeros(len(classes))
    growing = list(range(len(classes)))
    while growing:
        for column in growing:
            inside = chosen[:, column]
            with config_context(assume_finite=True):  # TF-IDF is finite: no check of every subset
                model = LinearSVC(C=C).fit(rows[inside], positive[inside, column])
            weights[column], bias[column] = model.coef_[0], model.intercept_[0]
        scores = np.asfortranarray(rows @ weights[growing].T + bias[growing])
        still: list[int] = []
        for k, column in enumerate(growing):
            violating = np.flatnonzero(~chosen[:, column] & (scores[:, k] > -1.0))
            if len(violating):
                chosen[violating[np.argsort(-scores[violating, k])[:GROWTH]], column] = True
                still.append(column)
        growing = still
    return Linear(classes, np.ascontiguousarray(weights.T, dtype=np.float32), bias.astype(np.float32))


def _fit_in_parts(pool: ThreadPoolExecutor, rows: Any, labels: NDArray[np.str_]) -> Callable[[], Linear]:
    """Starts the one-vs-rest models of all classes, a share of them on each of the pool's threads
    (liblinear and the sparse products let go of the GIL): what makes 300 articles train in time. The
    function returned waits for them and joins them, on the caller's thread, so that no thread of the
    pool waits for another."""
    classes = sorted(set(labels))
    parts = [pool.submit(_fit, rows, labels, frozenset(classes[i::THREADS])) for i in range(THREADS)]

    def joined() -> Linear:
        done = [part.result() for part in parts]
        return Linear(
            np.concatenate([p.classes for p in done]),
            np.ascontiguousarray(np.hstack([p.weights for p in done])),
            np.concatenate([p.bias for p in done]),
        )

    return joined


def _with_foreign(rows: Any, labels: NDArray[np.str_], foreign: Any) -> tuple[Any, NDArray[np.str_]]:
    """The articles' examples and the foreign sentences, the latter a class of their own so that every
    article's model learns to score small talk and errands low."""
    data = sparse.vstack([rows, foreign], format="csr")
    return data, np.concatenate([labels, np.full(foreign.shape[0], FOREIGN)])


def _best(model: Linear, rows: Any) -> tuple[Floats, NDArray[np.str_]]:
    """For each row, the best article's score and key (the foreign class is never an answer)."""
    articles = model.classes != FOREIGN
    scores, keys = model.scores(rows)[:, articles], model.classes[articles]
    return scores.max(axis=1), keys[scores.argmax(axis=1)]


def _balanced_threshold(answered: Floats, right: NDArray[np.bool_], foreign: Sequence[Floats]) -> float:
    """The score that maximises the mean of in-scope accuracy (a right answer at or above it) and
    out-of-scope recall (a foreign question below it), the recall itself a mean over kinds of foreign
    questions (near: other articles' topics; far: small talk and errands).

    With enough held-out questions to tell, it never refuses more than MAX_LOST of those answered
    right: in a large knowledge base the held-out examples are written like the rest, while customers
    use words of their own, so the examples overstate what a higher threshold costs them."""
    right_scores = np.sort(answered[right])
    candidates = np.unique(np.concatenate([answered, *foreign]))
    if len(right_scores) * MAX_LOST >= MIN_LOST_SEEN:
        candidates = candidates[candidates <= right_scores[int(MAX_LOST * len(right_scores))]]
    kept_right = len(right_scores) - np.searchsorted(right_scores, candidates, side="left")
    recall = np.mean([np.searchsorted(np.sort(f), candidates, side="left") / len(f) for f in foreign], axis=0)
    objective = kept_right / max(len(answered), 1) + recall
    return float(candidates[int(np.argmax(objective))])


@dataclass
class KbClassifier:
    """A trained classifier for one knowledge base (see the module's docstring)."""

    vectoriser: Vectoriser | None
    model: Linear | None
    only: str | None  # the one article of a knowledge base of one
    threshold: float  # the SVM score below which the bot does not answer
    calibration: tuple[Floats, Floats]  # score -> chance of a right answer, as points to interpolate

    @classmethod
    def train(cls, articles: Sequence[KbArticleText]) -> KbClassifier:
        texts, keys = _examples(articles)
        distinct = sorted(set(keys))
        if len(distinct) < 2:
            only = distinct[0] if distinct else None
            return cls(None, None, only, FALLBACK_THRESHOLD, _UNCALIBRATED)
        vectoriser, features = Vectoriser.fitted(texts)
        far = vectoriser.transform(foreign_sentences())
        with ThreadPoolExecutor(THREADS) as pool:
            final = _fit_in_parts(pool, *_with_foreign(features, np.array(keys), far))
            threshold, calibration = _cross_validate(pool, features, far, keys, _seed(articles))
            return cls(vectoriser, final(), None, threshold, calibration)

    def guess(self, text: str) -> KbGuess | None:
        """The best article for `text`; None when there is no knowledge base to ask."""
        if self.vectoriser is None or self.model is None:
            return KbGuess(self.only, 0.5, True) if self.only else None
        scores, best = _best(self.model, self.vectoriser.one(text))
        score = float(scores[0])
        return KbGuess(str(best[0]), self.confidence(score), score >= self.threshold)

    def confidence(self, score: float) -> float:
        """The chance, as cross-validation measured it, that a question scored this high is answered
        right, when questions the knowledge base covers and questions it does not come equally often."""
        return float(np.interp(score, *self.calibration))


_UNCALIBRATED = (np.array([-1.0, 1.0]), np.array([0.0, 1.0]))


@cache
def foreign_sentences() -> list[str]:
    """What a support bot hears that no knowledge base answers (small talk, errands, trivia): one
    sentence of each out-of-scope template of the intent model."""
    values = load_values()
    rng = random.Random(0)
    return [sample(template, rng, values) for template in load_templates()["out_of_scope"]]


def _seed(articles: Sequence[KbArticleText]) -> int:
    """Which articles cross-validation holds out together: fixed by their keys, so a retraining of the
    same knowledge base chooses the same threshold."""
    keys = "\x00".join(sorted(a.key for a in articles))
    return int(hashlib.sha256(keys.encode("utf-8")).hexdigest()[:8], 16)


Fold = tuple[Floats, NDArray[np.bool_], Floats, Floats]  # held-out scores, right, near foreign, far foreign


def _cross_validate(
    pool: ThreadPoolExecutor, rows: Any, far: Any, keys: list[str], seed: int
) -> tuple[float, tuple[Floats, Floats]]:
    """Held-out scores: each round leaves out a fifth of the articles (near foreign questions) and a
    tenth of the others' questions (to be answered); the far foreign sentences are scored too. From
    them, the threshold that balances answering and refusing, and the calibration of a score."""
    distinct = sorted(set(keys))
    random.Random(seed).shuffle(distinct)
    asked = set(distinct[:CV_ARTICLES])
    folds = min(FOLDS, len(distinct))
    group = {key: i % folds for i, key in enumerate(distinct)}
    labels = np.array(keys)
    counts = Counter(keys)
    seen: dict[str, int] = {}
    position = np.zeros(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        position[i] = seen.get(key, 0)
        seen[key] = int(position[i]) + 1
    article_of = np.array([group[k] for k in keys])
    enough = np.array([counts[k] for k in keys]) >= MIN_QUESTIONS
    sampled = np.array([k in asked for k in keys])
    taught_far = np.arange(far.shape[0]) % 2 == 0  # half the foreign sentences teach, half are asked

    def started(fold: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_], Callable[[], Linear]] | None:
        out = (article_of == fold) & sampled
        lent = ~out & (position % LENT == fold % LENT) & enough & sampled
        taught = ~out & ~lent & sampled
        if len(set(labels[taught])) < 2 or not lent.any():
            return None
        return out, lent, _fit_in_parts(pool, *_with_foreign(rows[taught], labels[taught], far[taught_far]))

    def held_out(out: NDArray[np.bool_], lent: NDArray[np.bool_], model: Linear) -> Fold:
        scores, best = _best(model, rows[lent])
        return scores, best == labels[lent], _best(model, rows[out])[0], _best(model, far[~taught_far])[0]

    training = [s for s in map(started, range(min(folds, ROUNDS))) if s is not None]  # all at once
    rounds = [held_out(out, lent, model()) for out, lent, model in training]
    if not rounds:
        return FALLBACK_THRESHOLD, _UNCALIBRATED
    held, ok, near, away = (np.concatenate([r[i] for r in rounds]) for i in range(4))
    threshold = _balanced_threshold(held, ok, (near, away))
    weights = [1.0 / len(held), 0.5 / len(near), 0.5 / len(away)]  # in scope and out of scope weigh alike
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
        np.concatenate([held, near, away]),
        np.concatenate([ok.astype(np.float64), np.zeros(len(near) + len(away))]),
        sample_weight=np.concatenate(
            [np.full(len(part), w) for part, w in zip((held, near, away), weights, strict=True)]
        ),
    )
    return threshold, (np.asarray(isotonic.X_thresholds_), np.asarray(isotonic.y_thresholds_))


def articles_hash(articles: Sequence[KbArticleText]) -> str:
    """A hash of everything the classifier is made of: each article's key, title and questions, this
    module's code and scikit-learn's version (a pickle of another version may not load)."""
    digest = hashlib.sha256(f"kb-classifier-{metadata.version('scikit-learn')}".encode())
    digest.update(Path(__file__).read_bytes())
    for article in sorted(articles, key=lambda a: a.key):
        for part in (article.key, article.title, *article.questions):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        digest.update(b"\x01")
    return digest.hexdigest()[:20]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("crm-assistant", appauthor=False)) / "kb"


_TRAINED: dict[str, KbClassifier] = {}  # hash of the articles -> classifier, for this process


def kb_classifier(articles: Sequence[KbArticleText]) -> KbClassifier:
    """The classifier for these articles: from memory, from the disk cache, or trained now (and kept)."""
    key = articles_hash(articles)
    found = _TRAINED.get(key)
    if found is not None:
        return found
    path = cache_dir() / f"{key}.pickle"
    try:
        with path.open("rb") as file:
            found = pickle.load(file)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        found = None
    if not isinstance(found, KbClassifier):
        found = KbClassifier.train(articles)
        _save(path, found)
    _TRAINED.clear()  # one knowledge base at a time: an older one is not asked again
    _TRAINED[key] = found
    return found


def _save(path: Path, classifier: KbClassifier) -> None:
    """Writes the cache atomically and drops all but the newest few (a large knowledge base's classifier
    takes tens of megabytes); a read-only cache only costs a retraining at the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as file:
            pickle.dump(classifier, file, protocol=pickle.HIGHEST_PROTOCOL)
        Path(file.name).replace(path)
        kept = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP_ON_DISK:]:
            old.unlink(missing_ok=True)
    except OSError:
        log.warning("could not cache the knowledge-base classifier in %s", path.parent)
