"""The CSV formats of `crm import` and `crm export` (shared/spec/cli.md): columns and which are required."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CsvFormat:
    kind: str
    columns: tuple[str, ...]
    required: frozenset[str]


def _format(kind: str, columns: str, required: str) -> CsvFormat:
    return CsvFormat(kind, tuple(columns.split()), frozenset(required.split()))


FORMATS: dict[str, CsvFormat] = {
    f.kind: f
    for f in (
        _format("users", "name email role slack_id telegram_id", "name email role"),
        _format("accounts", "name domain industry owner_email", "name"),
        _format("contacts", "name email phone title account", "name"),
        _format("deals", "name account amount stage close_date owner_email created_at", "name account"),
        _format("activities", "type account contact deal occurred_at notes user_email", "type account"),
        _format("tasks", "title due account contact deal assignee_email status", "title"),
        _format("kb", "article question answer title", "article question"),
        _format(
            "tickets",
            "number subject status priority customer_name customer_email created_at assignee csat",
            "",
        ),
    )
}
IMPORT_KINDS = ("users", "accounts", "contacts", "deals", "activities", "tasks", "kb")
EXPORT_KINDS = (*IMPORT_KINDS, "tickets")
