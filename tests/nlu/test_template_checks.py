"""The validator of the templates and their test files (template_checks.py): the real folder passes it, and
small bad folders prove that it fails when it should."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from template_checks import TEMPLATES, cases, problems

from intents.catalogue import Catalogue, catalogue

CONTRACT = Catalogue(
    slots={"greet": (), "find_contact": ("contact", "field"), "faq": ("article",)},
    staff=frozenset({"find_contact"}),
    customer=frozenset({"faq"}),
    everyone=frozenset({"greet"}),
    writes=frozenset(),
)


def test_the_templates_and_their_test_files_pass() -> None:
    found = problems(TEMPLATES, catalogue())
    assert not found, "\n".join(found)


def _test_file(intent: str, tests: list[dict[str, Any]], **more: Any) -> str:
    return json.dumps({"intent": intent, **more, "tests": tests})


def _good(root: Path) -> Path:
    """A tiny folder the validator passes: two intents, their values and their test files."""
    templates = root / "templates"
    (templates / "tests").mkdir(parents=True)
    (templates / "values.json").write_text(json.dumps({"_why": "a note", "contact": ["Ann Lee"]}), "utf-8")
    (templates / "greet.txt").write_text("# greetings\n\n(hi|hello) [there]\ngood morning\n", "utf-8")
    (templates / "find_contact.txt").write_text("(what's|what is) {contact}'s email[?]\n", "utf-8")
    (templates / "tests" / "greet.json").write_text(
        _test_file("greet", [{"sentences": ["hey!", "morning all", "hiya"], "slots": {}}]), "utf-8"
    )
    (templates / "tests" / "find_contact.json").write_text(
        _test_file(
            "find_contact",
            [
                {"sentences": ["Jo Park's email pls"], "slots": {"contact": "Jo Park", "field": "email"}},
                {"sentences": ["what's jo's mail?"], "role": "manager", "slots": {"contact": "Jo"}},
            ],
        ),
        "utf-8",
    )
    return templates


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def test_a_good_folder_passes(tmp_path: Path) -> None:
    templates = _good(tmp_path)
    assert problems(templates, CONTRACT, min_sentences=2) == []
    assert [(c.file, c.role, c.sentence) for c in cases(templates)][-2:] == [
        ("greet.json", "rep", "morning all"),
        ("greet.json", "rep", "hiya"),
    ]


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    # a template file without a test file, a test file for no template
    "missing test file": (
        lambda t: (t / "tests" / "greet.json").unlink(),
        "greet.txt: no test file tests/greet.json",
    ),
    "test file for no template": (
        lambda t: (t / "find_contact.txt").rename(t / "find_contact.txt.off"),
        "tests/find_contact.json: a test file for no template file (find_contact.txt)",
    ),
    "other file in tests": (
        lambda t: (t / "tests" / "greet.txt").write_text("hello\n", "utf-8"),
        "tests/greet.txt: not a test file",
    ),
    # templates
    "duplicate template": (
        lambda t: _append(t / "greet.txt", "Good   Morning\n"),
        "greet.txt:5: the same template as line 4: 'Good   Morning'",
    ),
    "template in two files": (
        lambda t: _append(t / "find_contact.txt", "good morning\n"),
        "greet.txt:4: the same template is in find_contact.txt: 'good morning'",
    ),
    "unknown slot list": (
        lambda t: _append(t / "find_contact.txt", "email of {person}\n"),
        "find_contact.txt:2: {person} has no slot list in values.json",
    ),
    "slot list that is not a list": (
        lambda t: _edit(t / "values.json", lambda d: d.update(contact="Ann Lee")),
        "find_contact.txt:1: {contact} has no slot list in values.json",
    ),
    "empty slot list": (
        lambda t: _edit(t / "values.json", lambda d: d.update(contact=[])),
        "values.json: the slot list 'contact' must be a non-empty list of non-empty strings",
    ),
    "template that does not parse": (
        lambda t: _append(t / "greet.txt", "(hi|hey there\n"),
        "greet.txt:5: does not parse",
    ),
    "template file for an unknown intent": (
        lambda t: (t / "greeting.txt").write_text("hi\n", "utf-8"),
        "greeting.txt: 'greeting' is not an intent of the contract",
    ),
    # test files
    "duplicate sentence in a test file": (
        lambda t: _edit(
            t / "tests" / "greet.json", lambda d: d["tests"].append({"sentences": ["Hiya "], "slots": {}})
        ),
        "tests/greet.json test 2: the same sentence as test 1: 'Hiya '",
    ),
    "sentence in two test files": (
        lambda t: _edit(
            t / "tests" / "find_contact.json", lambda d: d["tests"][0]["sentences"].append("hiya")
        ),
        "tests/greet.json test 1: the same sentence is in tests/find_contact.json: 'hiya'",
    ),
    "sentence that is a template as written": (
        lambda t: _edit(
            t / "tests" / "greet.json", lambda d: d["tests"][0]["sentences"].append("Hello there")
        ),
        "tests/greet.json test 1: 'Hello there' is what greet.txt:3 says as written",
    ),
    "intent not in the contract": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d.update(intent="wave")),
        "tests/greet.json: 'wave' is not an intent of the contract",
    ),
    "intent other than the file's": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d.update(intent="faq")),
        "tests/greet.json: names the intent 'faq', not its file's 'greet'",
    ),
    "slot not in the contract": (
        lambda t: _edit(
            t / "tests" / "find_contact.json", lambda d: d["tests"][0]["slots"].update(phone="5")
        ),
        "tests/find_contact.json test 1: 'phone' is not a slot of 'find_contact' in the contract",
    ),
    "slot of another intent": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0]["slots"].update(contact="Jo")),
        "tests/greet.json test 1: 'contact' is not a slot of 'greet' in the contract",
    ),
    "role that may not get the intent": (
        lambda t: _edit(t / "tests" / "find_contact.json", lambda d: d.update(role="customer")),
        "tests/find_contact.json test 1: a customer never gets 'find_contact'",
    ),
    "unknown role": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0].update(role="boss")),
        "tests/greet.json test 1: unknown role 'boss'",
    ),
    "misspelt key": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0].update(slot={})),
        "tests/greet.json test 1: unknown key 'slot'",
    ),
    "slots missing": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0].pop("slots")),
        'tests/greet.json test 1: "slots" must be an object',
    ),
    "no sentences": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0].update(sentences=[])),
        'tests/greet.json test 1: "sentences" must be a non-empty list',
    ),
    "no tests": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d.update(tests=[])),
        'tests/greet.json: must be an object with "intent" and a non-empty list of "tests"',
    ),
    "not JSON": (
        lambda t: (t / "tests" / "greet.json").write_text("intent: greet\n", "utf-8"),
        "tests/greet.json: not readable JSON",
    ),
    "too few sentences": (
        lambda t: _edit(t / "tests" / "greet.json", lambda d: d["tests"][0].update(sentences=["hey!"])),
        "tests/greet.json: 1 sentence(s), fewer than 2",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_folder_fails(tmp_path: Path, name: str) -> None:
    templates = _good(tmp_path)
    spoil, expected = BAD[name]
    spoil(templates)
    found = problems(templates, CONTRACT, min_sentences=2)
    assert any(line.startswith(expected) for line in found), f"expected {expected!r}, found:\n" + "\n".join(
        found
    )
