"""A parser over the demo company's names, built once per session (no database needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from intents.names import KbArticleText, NamedRecord, StaticNames
from intents.parser import Parser

DEMO = Path(__file__).resolve().parents[2] / "storage" / "demo"


def demo_names() -> StaticNames:
    """The demo store's names, read from its CSV files: what `crm parse` sees after `crm demo`."""

    def rows(kind: str) -> list[dict[str, str]]:
        with (DEMO / f"{kind}.csv").open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    records = [NamedRecord("account", r["name"]) for r in rows("accounts")]
    records += [NamedRecord("contact", r["name"], r["account"]) for r in rows("contacts")]
    records += [NamedRecord("user", r["name"]) for r in rows("users")]
    articles: dict[str, KbArticleText] = {}
    for r in rows("kb"):
        old = articles.get(r["article"])
        articles[r["article"]] = KbArticleText(
            r["article"],
            old.title if old else r["title"],
            (*(old.questions if old else ()), r["question"]),
            old.answer if old else r["answer"],
        )
    return StaticNames(records, list(articles.values()))


@pytest.fixture(scope="session")
def parser() -> Parser:
    return Parser.build(demo_names())
