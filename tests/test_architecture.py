"""The house's import rules (shared/spec/architecture.md), checked on every module's imports, including
those inside functions:

- imports point one way: adapters -> assistant -> intents, storage;
- nothing imports adapters;
- intents and storage know nothing of each other (the parser reads names through a narrow interface);
- adapters open no database session: no SQLAlchemy ORM, no storage engine or models.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "assistant", "intents", "storage")
MAY_IMPORT = {
    "adapters": {"adapters", "assistant", "intents", "storage"},
    "assistant": {"assistant", "intents", "storage"},
    "intents": {"intents"},
    "storage": {"storage"},
}
# what would let an adapter open a session or touch records itself
NO_SESSIONS = ("sqlalchemy.orm", "storage.db", "storage.models", "storage.migrate")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; `from x import y` counts as x.y too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def modules(package: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def broken_rules(package: str, root: Path = ROOT) -> list[str]:
    wrong = []
    for path in modules(package, root):
        where = path.relative_to(root)
        for line, name in imports(path):
            top = name.split(".")[0]
            if top in PACKAGES and top not in MAY_IMPORT[package]:
                wrong.append(f"{where}:{line} imports {name}")
            if package == "adapters" and name.startswith(NO_SESSIONS):
                wrong.append(f"{where}:{line} imports {name}: adapters open no database session")
    return wrong


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    assert modules(package), f"no modules found in {package}/"
    assert broken_rules(package) == []


def test_the_checker_sees_a_broken_rule(tmp_path: Path) -> None:
    for package, text in {
        "assistant": "def f():\n    from adapters.terminal import Chat\n",
        "adapters": "from sqlalchemy.orm import Session\nimport storage.db\n",
        "intents": "from storage import models\n",
    }.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "bad.py").write_text(text, "utf-8")
    assert broken_rules("assistant", tmp_path) == [
        "assistant/bad.py:2 imports adapters.terminal",
        "assistant/bad.py:2 imports adapters.terminal.Chat",
    ]
    assert len(broken_rules("adapters", tmp_path)) == 3  # sqlalchemy.orm, .Session, storage.db
    assert broken_rules("intents", tmp_path) == [
        "intents/bad.py:1 imports storage",
        "intents/bad.py:1 imports storage.models",
    ]
