"""The knowledge-base classifier (issue 12): trained on the articles' own example questions, it answers
a customer's question with the right article or, below a threshold it chose itself by cross-validation,
says it is not sure. It is cached by a hash of the articles, and scored by `crm eval-kb`."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from seeded import seed_demo
from sklearn.svm import LinearSVC

from adapters.cli.main import main
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime
from intents import kb_classifier as kb
from intents.kb_classifier import KbClassifier, kb_classifier
from intents.kb_eval import Labelled, read_labelled, score
from intents.names import KbArticleText

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "bench"))

from bench_kb import run  # noqa: E402

DEMO_EVAL = HERE / "demo_eval.jsonl"
DEMO_KB = HERE.parents[1] / "storage" / "demo" / "kb.csv"
NOW = ["--tz", "UTC", "--now", "2026-11-23T09:00"]
FAST_CLINC150 = Path(__file__).with_name("clinc150") / "fast.json"
FLOOR_IN_SCOPE, FLOOR_OUT_OF_SCOPE = 0.93, 0.70  # CLINC150 on 30 intents: 0.966 and 0.739 when written

PETS = KbArticleText(
    "pets",
    "Bringing pets to the hotel",
    (
        "can I bring my dog",
        "are pets allowed",
        "is the hotel pet friendly",
        "do you allow cats in the rooms",
        "how much is the pet fee",
        "can my dog stay with me",
    ),
    "Dogs and cats are welcome for 20 euros a night.",
)
PARKING = KbArticleText(
    "parking",
    "Parking at the hotel",
    (
        "is there parking",
        "where can I park my car",
        "how much does parking cost",
        "do you have a garage",
        "can I leave my car overnight",
        "is parking free for guests",
    ),
    "Our garage is open all night; guests park for 12 euros a day.",
)
BREAKFAST = KbArticleText(
    "breakfast",
    "Breakfast times",
    (
        "when is breakfast served",
        "what time does breakfast start",
        "is breakfast included",
        "until when can I get breakfast",
        "do you serve breakfast on sundays",
        "is there a vegan breakfast",
    ),
    "Breakfast is served from 7 to 10:30, and it is included in every room rate.",
)
HOTEL = [PETS, PARKING, BREAKFAST]


def demo_articles() -> list[KbArticleText]:
    """The demo knowledge base as `crm demo` stores it: one article per key, its rows' questions."""
    with DEMO_KB.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    first = {r["article"]: r for r in reversed(rows)}
    return [
        KbArticleText(
            key, row["title"], tuple(r["question"] for r in rows if r["article"] == key), row["answer"]
        )
        for key, row in first.items()
    ]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test trains into a cache folder of its own."""
    monkeypatch.setattr(kb, "cache_dir", lambda: tmp_path / "kb")
    kb._TRAINED.clear()


def test_a_question_in_other_words_gets_its_article() -> None:
    classifier = KbClassifier.train(HOTEL)
    for question, article in [
        ("may I bring my puppy along", "pets"),
        ("what does it cost to park", "parking"),
        ("what time is breakfast", "breakfast"),
    ]:
        guess = classifier.guess(question)
        assert guess is not None and guess.article == article and guess.sure, question


def test_a_question_no_article_covers_is_refused() -> None:
    classifier = KbClassifier.train(HOTEL)
    for question in ("what's the weather like tomorrow", "tell me a joke", "who won the football match"):
        guess = classifier.guess(question)
        assert guess is not None and not guess.sure, question


def test_confidence_grows_with_the_score_and_stays_a_probability() -> None:
    classifier = KbClassifier.train(HOTEL)
    confidences = [classifier.confidence(score) for score in (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)]
    assert confidences == sorted(confidences)
    assert all(0.0 <= c <= 1.0 for c in confidences)


@pytest.mark.parametrize("classes", [2, 5])
def test_the_working_set_svm_is_the_svm_fit_on_all_the_examples(
    classes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each class's model, fit on its own examples, the nearest others and those inside its margin,
    is the one-vs-rest LinearSVC fit on every example, to the solver's tolerance (a working set far
    smaller than the data, so that it has to grow, and classes in several blocks)."""
    monkeypatch.setattr(kb, "WORKING_SET", 10)
    monkeypatch.setattr(kb, "GROWTH", 5)
    monkeypatch.setattr(kb, "BLOCK", 2)  # several blocks of classes
    articles = demo_articles()[:classes]
    texts, keys = kb._examples(articles)
    vectoriser, features = kb.Vectoriser.fitted(texts)
    rows, labels = kb._with_foreign(features, np.array(keys), vectoriser.transform(kb.foreign_sentences()))
    assert rows.shape[0] > 5 * kb.WORKING_SET
    full = LinearSVC(C=kb.C, tol=1e-8, max_iter=100_000).fit(rows, labels)
    weights, bias = full.coef_, full.intercept_
    if len(full.classes_) == 2:
        weights, bias = np.vstack([-weights, weights]), np.concatenate([-bias, bias])
    with monkeypatch.context() as tight:
        tight.setattr(kb, "LinearSVC", lambda C: LinearSVC(C=C, tol=1e-8, max_iter=100_000))
        working = kb._fit(rows, labels)
    assert list(working.classes) == list(full.classes_)
    np.testing.assert_allclose(working.weights.T, weights, atol=1e-5)
    np.testing.assert_allclose(working.bias, bias, atol=1e-5)
    half = kb._fit(rows, labels, frozenset(full.classes_[:1]))  # one class learnt alone: the same
    np.testing.assert_allclose(half.weights[:, 0], working.weights[:, 0], atol=1e-3)


def test_an_empty_knowledge_base_has_nothing_to_say_and_one_article_is_the_answer() -> None:
    assert KbClassifier.train([]).guess("can I bring my dog") is None
    guess = KbClassifier.train([PETS]).guess("can I bring my dog")
    assert guess is not None and guess.article == "pets"


def test_the_classifier_is_cached_by_the_articles_and_trained_again_when_they_change(tmp_path: Path) -> None:
    first = kb_classifier(HOTEL)
    assert kb_classifier(list(HOTEL)) is first  # same articles, another list: no training
    assert list((tmp_path / "kb").iterdir()), "the trained classifier is kept on disk"
    kb._TRAINED.clear()
    from_disk = kb_classifier(HOTEL)
    assert from_disk is not first and from_disk.threshold == first.threshold  # read back, not trained
    room_service = replace(BREAKFAST, questions=(*BREAKFAST.questions, "can I have breakfast in my room"))
    assert kb_classifier([PETS, PARKING, room_service]) is not from_disk


def test_the_demo_knowledge_base_answers_and_refuses_its_labelled_questions() -> None:
    result = score(kb_classifier(demo_articles()), read_labelled(DEMO_EVAL))
    assert result.out_of_scope >= 30 and result.in_scope >= 60
    assert result.in_scope_accuracy >= 0.85
    assert result.out_of_scope_recall >= 0.75
    assert result.accuracy >= 0.85


def test_the_issue_questions_get_the_refund_and_pricing_articles() -> None:
    classifier = kb_classifier(demo_articles())
    questions = [
        Labelled("how do I get a refund? we were charged twice", "refunds"),
        Labelled("what's the pricing for 20 users", "pricing"),
    ]
    assert score(classifier, questions).in_scope_accuracy == 1.0


def test_a_customer_the_bot_cannot_answer_is_offered_a_ticket_or_a_person(runtime: Runtime) -> None:
    seed_demo(runtime)
    bot = Assistant(runtime)
    said = Message(
        "terminal",
        "jpark@globex.example",
        "what is the capital of france",
        customer=True,
        sender_is_email=True,
    )
    reply = bot.handle(said)
    assert "not sure" in reply.plain
    assert [b.value for b in reply.buttons] == ["open a ticket", "let me talk to a person"]
    answered = bot.handle(replace(said, text="how do I get a refund? we were charged twice"))
    assert "refund the extra charge" in answered.plain and not answered.buttons


def test_clinc150_on_30_intents_stays_above_its_floor() -> None:
    """The fast version of `make bench-kb`: 30 of CLINC150's intents as a knowledge base, the other
    intents' test questions and oos_test as out of scope; floors a little under today's figures. The
    corpus part it needs is in the repository (clinc150/README.md), so CI on a fresh clone runs it."""
    result, trained = run(FAST_CLINC150, intents=30)
    assert result.in_scope_accuracy >= FLOOR_IN_SCOPE
    assert result.out_of_scope_recall >= FLOOR_OUT_OF_SCOPE
    assert trained < 60 and result.latency(0.95) < 0.05  # loose: CI's machine may be busy


def test_eval_kb_scores_a_labelled_file_against_the_stored_knowledge_base(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", database_url, *NOW, "demo"]) == 0
    capsys.readouterr()
    assert main(["--db", database_url, "eval-kb", str(DEMO_EVAL), "--min-accuracy", "0.8"]) == 0
    out = capsys.readouterr().out
    for figure in ("accuracy (right answer or right refusal)", "in-scope accuracy", "out-of-scope recall"):
        assert figure in out
    assert "confidence" in out and "0.9-1.0" in out


def test_eval_kb_names_a_bad_line(tmp_path: Path, database_url: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "no text field"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"bad\.jsonl:1"):
        main(["--db", database_url, "eval-kb", str(bad)])
