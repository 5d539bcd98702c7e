"""The test file beside each template file (intents/templates/tests/<intent>.json), one test per sentence.

Every sentence must parse, against the demo store at Monday 2026-11-23 09:00 UTC, to its file's intent and
exactly its slots. The files are the specification of each template file; template_checks.py says what
a test file holds, and test_template_checks.py checks the files themselves.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from template_checks import TEMPLATES, TESTS, Case, cases

from intents.classifier import source_hash
from intents.parser import Parser
from intents.templates import load_templates, template_files

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CASES = cases()


def test_there_are_test_sentences_for_every_template_file() -> None:
    assert len(CASES) >= 5 * len(list(TEMPLATES.glob("*.txt")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sentence(parser: Parser, case: Case) -> None:
    got = parser.parse(case.sentence, NOW, case.role)
    assert (got.intent, got.slots) == (case.intent, case.slots), (
        f"intents/templates/{TESTS}/{case.file}: {case.sentence!r} said by a {case.role}\n"
        f"  expected {case.intent} {json.dumps(case.slots, sort_keys=True)}\n"
        f"  got      {got.intent} {json.dumps(got.slots, sort_keys=True, default=str)}"
        f" (confidence {got.confidence:.2f})"
    )


def test_the_test_sentences_are_never_training_data() -> None:
    """The model is trained from the templates alone: the loader reads no file of templates/tests."""
    assert set(load_templates()) == {p.stem for p in TEMPLATES.glob("*.txt")}
    assert Path(str(template_files())).resolve() == TEMPLATES


def test_the_test_files_do_not_change_the_model_hash(tmp_path: Path) -> None:
    """A change to a test file neither changes the model's hash nor retrains it; a template change does."""
    package = tmp_path / "intents"
    shutil.copytree(TEMPLATES.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_hash(package)
    assert before == source_hash()  # the hash does not depend on where the package is

    (package / "templates" / TESTS / "greet.json").write_text('{"intent": "greet", "tests": []}', "utf-8")
    (package / "templates" / TESTS / "new_one.json").write_text("{}", "utf-8")
    assert source_hash(package) == before

    with (package / "templates" / "greet.txt").open("a", encoding="utf-8") as f:
        f.write("good day to you\n")
    assert source_hash(package) != before
