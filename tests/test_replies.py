"""What the assistant says lives in assistant/replies.json (shared/spec/architecture.md: text as data).

- every key the code says (`say("key", ...)`, in assistant/ and adapters/) is in replies.json, written
  out as a literal so that it can be checked here;
- every text in replies.json is said somewhere: no dead texts;
- replies.json is groups of entries, a key unique across groups; an entry is a text or plural forms,
  and plural forms have "one" and "other" (and may have "zero"), nothing else;
- placeholders are plain names, every form of a plural has the same ones, and each `say` call gives
  exactly the placeholders its text needs (plus `count` for a plural);
- `say` picks the plural form by `count`.
"""

from __future__ import annotations

import ast
import json
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.replies import PLURAL_FORMS, Plural, entries, plural_form, say, texts

ROOT = Path(__file__).resolve().parents[1]
SPEAKERS = ("assistant", "adapters")  # the packages that may say things (adapters import assistant)
RAW = json.loads((ROOT / "assistant" / "replies.json").read_text("utf-8"))


@dataclass(frozen=True)
class Said:
    where: str
    keys: tuple[str, ...]  # the literal key, or both branches of `"a" if x else "b"`
    values: frozenset[str] | None  # the keyword names given; None when **values are passed on


def _keys(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _imports_say(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "assistant.replies"
        and any(alias.name == "say" and alias.asname is None for alias in node.names)
        for node in ast.walk(tree)
    )


def said_in(path: Path) -> tuple[list[Said], list[str]]:
    """The `say(...)` calls in a module that imports `say` from assistant.replies, and the calls whose
    key is not written out."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    if not _imports_say(tree):
        return [], []
    found: list[Said] = []
    unreadable: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "say"):
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        keys = _keys(node.args[0]) if len(node.args) == 1 else None
        if keys is None:
            unreadable.append(where)
            continue
        names = [k.arg for k in node.keywords]
        values = None if None in names else frozenset(n for n in names if n is not None)
        found.append(Said(where, keys, values))
    return found, unreadable


def all_said() -> tuple[list[Said], list[str]]:
    found: list[Said] = []
    unreadable: list[str] = []
    for package in SPEAKERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            calls, bad = said_in(path)
            found += calls
            unreadable += bad
    return found, unreadable


def fields(text: str) -> set[str]:
    """The placeholder names of a text; a placeholder that is not a plain name is an error."""
    names = set()
    for _literal, name, _spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        assert name.isidentifier(), f"{text!r}: placeholder {{{name}}} is not a plain name"
        assert conversion is None, f"{text!r}: placeholder {{{name}!{conversion}}} has a conversion"
        names.add(name)
    return names


def needs(key: str) -> set[str]:
    """The values a `say(key, ...)` call must give."""
    text = texts()[key]
    if isinstance(text, str):
        return fields(text)
    return {"count"} | fields(text["one"]) | fields(text["other"]) | fields(text.get("zero", ""))


def groups() -> dict[str, dict[str, object]]:
    return {name: members for name, members in RAW.items() if not name.startswith("_")}


def test_every_say_call_writes_its_key_out() -> None:
    found, unreadable = all_said()
    assert found, "no say(...) calls found: is the scan looking in the right place?"
    assert not unreadable, f"say(...) with a key that is not a literal string: {unreadable}"


def test_every_key_said_in_the_code_is_in_replies_json() -> None:
    found, _ = all_said()
    missing = [f"{s.where}: {key}" for s in found for key in s.keys if key not in texts()]
    assert not missing, f"said but not in replies.json: {missing}"


def test_every_text_in_replies_json_is_said_somewhere() -> None:
    found, _ = all_said()
    used = {key for s in found for key in s.keys}
    dead = sorted(set(texts()) - used)
    assert not dead, f"texts nobody says: {dead}"


def test_replies_json_is_groups_of_entries_with_keys_unique_across_groups() -> None:
    assert groups(), "replies.json has no groups"
    keys = [key for members in groups().values() for key in members]
    assert len(keys) == len(set(keys)), f"keys in two groups: {sorted(k for k in keys if keys.count(k) > 1)}"
    assert set(keys) == set(texts())
    for name, members in groups().items():
        assert isinstance(members, dict) and members, f"group {name!r} is not an object of texts"


def test_every_entry_is_a_text_or_plural_forms_with_one_and_other() -> None:
    plurals = 0
    for members in groups().values():
        for key, value in members.items():
            if isinstance(value, str):
                continue
            plurals += 1
            assert isinstance(value, dict), f"{key}: neither a text nor plural forms"
            assert {"one", "other"} <= set(value), f"{key}: a plural needs 'one' and 'other'"
            assert set(value) <= set(PLURAL_FORMS), (
                f"{key}: unknown plural forms {set(value) - set(PLURAL_FORMS)}"
            )
            assert all(isinstance(form, str) for form in value.values()), f"{key}: a form is not a text"
    assert plurals, "no plural entries: the counts would be back in the code"


@pytest.mark.parametrize("key", sorted(texts()))
def test_placeholders_are_plain_names_and_the_same_in_every_form(key: str) -> None:
    text = texts()[key]
    if isinstance(text, str):
        fields(text)
        return
    one, other = fields(text["one"]), fields(text["other"])
    assert one == other, f"{key}: 'one' fills {sorted(one)} but 'other' fills {sorted(other)}"
    if "zero" in text:
        assert fields(text["zero"]) <= other, f"{key}: 'zero' fills what 'other' does not"


def test_each_say_call_gives_exactly_the_placeholders_of_its_text() -> None:
    found, _ = all_said()
    wrong = []
    for s in found:
        if s.values is None:
            continue  # **values passed on: checked where they are built
        for key in s.keys:
            if key in texts() and s.values != needs(key):
                wrong.append(f"{s.where}: {key} needs {sorted(needs(key))}, is given {sorted(s.values)}")
    assert not wrong, "\n".join(wrong)


def test_every_text_formats_with_its_placeholders() -> None:
    for key in texts():
        values: dict[str, object] = {name: f"<{name}>" for name in needs(key)}
        for count in (0, 1, 2):
            values["count"] = count
            assert say(key, **values)


def test_say_picks_the_plural_form_by_count() -> None:
    assert say("report_won", count=1, amount="$5") == "Won $5 in 1 deal"
    assert say("report_won", count=2, amount="$9") == "Won $9 in 2 deals"
    assert say("report_won", count=0, amount="$0") == "Won $0 in 0 deals"  # no "zero" form: "other"
    assert say("summary_deals", count=0, amount="$0") == "No open deals"  # its "zero" form
    assert say("summary_deals", count=1, amount="$5") == "1 open deal worth $5"


def test_a_plural_is_said_only_with_a_count() -> None:
    with pytest.raises(TypeError, match="count"):
        say("report_won", amount="$5")


def test_plural_forms_follow_english_rules() -> None:
    forms = Plural(one="one", other="other")
    assert [plural_form(forms, n) for n in (0, 1, 2, 11, 21, -1)] == ["other", "one", *["other"] * 4]
    forms["zero"] = "zero"
    assert [plural_form(forms, n) for n in (0, 1, 2)] == ["zero", "one", "other"]


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"g": "not a group"},
        {"g": {"k": 1}},
        {"g": {"k": {"one": "a"}}},
        {"g": {"k": {"one": "a", "other": "b", "few": "c"}}},
        {"g": {"k": {"one": "a", "other": 2}}},
        {"g": {"k": "a"}, "h": {"k": "b"}},
    ],
)
def test_a_malformed_replies_file_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        entries(data)


def test_comments_are_not_texts() -> None:
    assert entries({"_why": "a comment", "g": {"k": "a"}}) == {"k": "a"}
