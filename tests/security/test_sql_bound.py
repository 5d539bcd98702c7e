"""SQL goes through the ORM or bound parameters: no `text(...)` or `exec_driver_sql(...)` is handed a
string built from values at run time (an f-string, % formatting, + or .format). The few that build an
identifier through SQLAlchemy's own quoting are allowed here, each with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "intents", "storage", "adapters", "tests")
CALLS = {"text", "exec_driver_sql"}
ALLOWED = {  # (file, function) -> why the formatted SQL is safe
    ("tests/conftest.py", "postgres_url"): "a database name the fixture makes from uuid4 hex, quoted",
    ("tests/conftest.py", "_truncate_postgres"): "table names from the models' metadata, not from input",
    ("tests/bench/scratch.py", "scratch_database"): "a database name the benchmark makes from uuid4 hex",
    ("storage/synthetic/writer.py", "after_bulk_load"): "table names from a constant tuple in the function",
    ("tests/reminders/test_workers.py", "store"): "table names from the models' metadata, not from input",
}


def built_at_run_time(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant))
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def formatted_sql(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of each text()/exec_driver_sql() call given a run-time-built string."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Call):
                called = (
                    child.func.attr
                    if isinstance(child.func, ast.Attribute)
                    else getattr(child.func, "id", "")
                )
                if called in CALLS and child.args and built_at_run_time(child.args[0]):
                    found.append((function, child.lineno))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_the_scan_sees_a_formatted_statement() -> None:
    tree = ast.parse(
        'def f(t):\n    conn.execute(text(f"DELETE FROM {t}"))\n    conn.execute(text("SELECT 1"))\n'
    )
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "text"]
    assert [built_at_run_time(c.args[0]) for c in calls] == [True, False]


def test_sql_is_never_built_from_values() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for function, line in formatted_sql(path):
                if (where, function) not in ALLOWED:
                    offenders.append(f"{where}:{line} in {function}()")
    assert not offenders, "SQL built from run-time strings; bind parameters instead:\n" + "\n".join(offenders)
