"""Checks of the sentence templates and their test files, in the manner of `intentfest validate`.

Beside each template file `intents/templates/<intent>.txt` lies a test file
`intents/templates/tests/<intent>.json`:

    {"intent": "find_contact",
     "role": "rep",                          (optional: who says the sentences, default "rep")
     "tests": [{"sentences": ["what's Jane Park's email?", "jane park email pls"],
                "slots": {"contact": "Jane Park", "field": "email"}},
               {"sentences": ["..."], "role": "manager", "slots": {}}]}

Each sentence is parsed against the demo store at Monday 2026-11-23 09:00 UTC (tests/nlu/README.md) and
must give the file's intent and exactly these slots (test_template_tests.py). `problems()` lists what is
wrong with a templates folder and its test files; `cases()` reads the sentences to run. Both take the
folder (and `problems()` the intent contract) as arguments, so that they can be tried on small bad folders.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intents.catalogue import ROLES, Catalogue
from intents.templates import Nodes, Optional_, Slot, TemplateError, parse_template, slots_of

TEMPLATES = Path(__file__).resolve().parents[2] / "intents" / "templates"
TESTS = "tests"  # the test files' folder, inside the templates folder
MIN_SENTENCES = 5
FILE_KEYS = {"intent", "role", "tests"}
TEST_KEYS = {"sentences", "slots", "role"}


@dataclass
class Case:
    """One sentence of a test file, and what the parser must make of it."""

    file: str
    intent: str
    role: str
    sentence: str
    slots: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.file}: {self.sentence}"


@dataclass
class _Template:
    number: int  # line number in its file
    line: str
    says: re.Pattern[str] | None  # the sentences it says as written (None: it has a {slot})


def _normal(text: str) -> str:
    """How sentences and templates are compared: case and spacing do not count."""
    return " ".join(text.casefold().split())


def _pattern(nodes: Nodes) -> str | None:
    """A regular expression for every sentence a template says, in `_normal` form; None if it has a
    {slot} (a test sentence fills a slot with a name of its own, which is what tests should do)."""
    out = []
    for node in nodes:
        if isinstance(node, Slot):
            return None
        if isinstance(node, str):
            out.append(r"\s*".join(re.escape(word) for word in node.casefold().split(" ")))
            continue
        choice = node.choice if isinstance(node, Optional_) else node
        options = [_pattern(option) for option in choice.options]
        if None in options:
            return None
        out.append("(?:" + "|".join(o for o in options if o is not None) + ")")
        if isinstance(node, Optional_):
            out.append("?")
    return "".join(out)


def template_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, template) for each template of a file: lines neither blank nor # comments."""
    out = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append((number, stripped))
    return out


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text("utf-8")), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{path.name}: not readable JSON ({e})"


def cases(templates: Path = TEMPLATES) -> list[Case]:
    """Every well-formed sentence of every test file; what is malformed is for `problems()` to report."""
    out = []
    for path in sorted((templates / TESTS).glob("*.json")):
        data, error = _read_json(path)
        if error or not isinstance(data, dict) or not isinstance(data.get("tests"), list):
            continue
        intent = str(data.get("intent", path.stem))
        for test in data["tests"]:
            if not isinstance(test, dict):
                continue
            role = str(test.get("role", data.get("role", "rep")))
            slots, sentences = test.get("slots"), test.get("sentences")
            if isinstance(slots, dict) and isinstance(sentences, list):
                out.extend(Case(path.name, intent, role, s, slots) for s in sentences if isinstance(s, str))
    return out


def problems(templates: Path, contract: Catalogue, min_sentences: int = MIN_SENTENCES) -> list[str]:
    """Everything wrong with a templates folder and its test files, one line each (none: all is well).

    - values.json: missing, unreadable, or a slot list that is empty or holds what is not a string;
    - a template file: an intent the contract does not name, a template that does not parse, a {slot}
      with no list in values.json, the same template twice in the file (case and spacing do not count),
      or a template another file has too;
    - a template file without a test file, a test file without a template file, any other file in tests/;
    - a test file: not of the form above, an intent other than its file's, a role that does not exist
      or may not get the intent, a slot the contract does not give the intent, the same sentence twice
      (in the file or in another test file), a sentence that one of the intent's templates says as
      written (tests say things as users do, not as the templates do), fewer than `min_sentences`.
    """
    found: list[str] = []
    values = _check_values(templates, found)
    by_intent = _check_templates(templates, contract, values, found)
    _check_test_files(templates, contract, by_intent, found)
    counts: dict[str, int] = {}
    for case in cases(templates):
        counts[case.file] = counts.get(case.file, 0) + 1
    for path in sorted((templates / TESTS).glob("*.json")):
        if counts.get(path.name, 0) < min_sentences:
            found.append(
                f"{TESTS}/{path.name}: {counts.get(path.name, 0)} sentence(s), fewer than {min_sentences}"
            )
    return found


def _check_values(templates: Path, found: list[str]) -> set[str]:
    """The names of the slot lists values.json defines."""
    path = templates / "values.json"
    if not path.is_file():
        found.append("values.json: missing")
        return set()
    data, error = _read_json(path)
    if error:
        found.append(error)
        return set()
    if not isinstance(data, dict):
        found.append("values.json: not an object of slot lists")
        return set()
    names = set()
    for name, value in data.items():
        if not isinstance(value, list):
            continue  # a note such as "_why": not a slot list (intents.templates.load_values skips it too)
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            found.append(f"values.json: the slot list {name!r} must be a non-empty list of non-empty strings")
        names.add(name)
    return names


def _check_templates(
    templates: Path, contract: Catalogue, values: set[str], found: list[str]
) -> dict[str, list[_Template]]:
    """intent -> its templates (those that parse)."""
    out: dict[str, list[_Template]] = {}
    first_file: dict[str, str] = {}  # a normalised template -> the first file that has it
    for path in sorted(templates.glob("*.txt")):
        intent = path.stem
        if intent not in contract.slots:
            found.append(
                f"{path.name}: {intent!r} is not an intent of the contract (intents/data/intents.json)"
            )
        seen: dict[str, int] = {}
        kept = out.setdefault(intent, [])
        for number, line in template_lines(path):
            where = f"{path.name}:{number}"
            try:
                nodes = parse_template(line)
            except TemplateError as e:
                found.append(f"{where}: does not parse: {e}")
                continue
            for slot in sorted(slots_of(nodes) - values):
                found.append(f"{where}: {{{slot}}} has no slot list in values.json")
            key = _normal(line)
            earlier, elsewhere = _seen_before(key, number, path.name, seen, first_file)
            if earlier is not None:
                found.append(f"{where}: the same template as line {earlier}: {line!r}")
                continue
            if elsewhere is not None:
                found.append(f"{where}: the same template is in {elsewhere}: {line!r}")
            pattern = _pattern(nodes)
            kept.append(_Template(number, line, None if pattern is None else re.compile(pattern)))
    return out


def _check_test_files(
    templates: Path, contract: Catalogue, by_intent: dict[str, list[_Template]], found: list[str]
) -> None:
    folder = templates / TESTS
    test_files = {p.stem: p for p in sorted(folder.glob("*.json"))}
    for intent in sorted(set(by_intent) - set(test_files)):
        found.append(f"{intent}.txt: no test file {TESTS}/{intent}.json")
    for intent in sorted(set(test_files) - set(by_intent)):
        found.append(f"{TESTS}/{intent}.json: a test file for no template file ({intent}.txt)")
    if folder.is_dir():
        for other in sorted(folder.iterdir()):
            if not (other.is_file() and other.suffix == ".json"):
                found.append(
                    f"{TESTS}/{other.name}: not a test file (only <intent>.json belongs in {TESTS}/)"
                )
    first_file: dict[str, str] = {}  # a normalised sentence -> the first test file that has it
    for intent, path in test_files.items():
        _check_test_file(path, intent, contract, by_intent.get(intent, []), first_file, found)


def _check_test_file(
    path: Path,
    intent: str,
    contract: Catalogue,
    intent_templates: list[_Template],
    first_file: dict[str, str],
    found: list[str],
) -> None:
    name = f"{TESTS}/{path.name}"
    data, error = _read_json(path)
    if error:
        found.append(f"{TESTS}/{error}")
        return
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list) or not data["tests"]:
        found.append(f'{name}: must be an object with "intent" and a non-empty list of "tests"')
        return
    for key in sorted(set(data) - FILE_KEYS):
        found.append(f"{name}: unknown key {key!r} (known: {', '.join(sorted(FILE_KEYS))})")
    named = data.get("intent")
    if named != intent:
        found.append(f"{name}: names the intent {named!r}, not its file's {intent!r}")
    if named not in contract.slots:
        found.append(f"{name}: {named!r} is not an intent of the contract (intents/data/intents.json)")
        named = None
    seen: dict[str, int] = {}
    for number, test in enumerate(data["tests"], 1):
        where = f"{name} test {number}"
        if not isinstance(test, dict):
            found.append(f"{where}: not an object")
            continue
        for key in sorted(set(test) - TEST_KEYS):
            found.append(f"{where}: unknown key {key!r} (known: {', '.join(sorted(TEST_KEYS))})")
        role = test.get("role", data.get("role", "rep"))
        if role not in ROLES:
            found.append(f"{where}: unknown role {role!r} (roles: {', '.join(ROLES)})")
        elif named is not None and named not in contract.allowed(role):
            found.append(f"{where}: a {role} never gets {named!r}")
        slots = test.get("slots")
        if not isinstance(slots, dict):
            found.append(f'{where}: "slots" must be an object ({{}} when nothing is said)')
        elif named is not None:
            for slot in sorted(set(slots) - set(contract.slots[named])):
                found.append(f"{where}: {slot!r} is not a slot of {named!r} in the contract")
        sentences = test.get("sentences")
        if not isinstance(sentences, list) or not sentences:
            found.append(f'{where}: "sentences" must be a non-empty list')
            continue
        for sentence in sentences:
            if not isinstance(sentence, str) or not sentence.strip():
                found.append(f"{where}: a sentence must be a non-empty string, not {sentence!r}")
                continue
            key = _normal(sentence)
            earlier, elsewhere = _seen_before(key, number, path.name, seen, first_file)
            if earlier is not None:
                found.append(f"{where}: the same sentence as test {earlier}: {sentence!r}")
                continue
            if elsewhere is not None:
                found.append(f"{where}: the same sentence is in {TESTS}/{elsewhere}: {sentence!r}")
            for template in intent_templates:
                if template.says is not None and template.says.fullmatch(key):
                    found.append(
                        f"{where}: {sentence!r} is what {intent}.txt:{template.number} says as written"
                        f" ({template.line!r}); say it as a user would"
                    )
                    break


def _seen_before(
    key: str, number: int, file: str, seen: dict[str, int], first_file: dict[str, str]
) -> tuple[int | None, str | None]:
    """Where a normalised line was met before: its number earlier in this file, or the other file that
    has it; it is remembered as met here."""
    if key in seen:
        return seen[key], None
    seen[key] = number
    first = first_file.setdefault(key, file)
    return None, first if first != file else None
