"""The intent catalogue (data/intents.json): which role may get which intent, and its slots."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from intents.datafiles import read_json

STAFF_ROLES = ("rep", "manager", "admin")
ROLES = (*STAFF_ROLES, "customer")


@dataclass(frozen=True)
class Catalogue:
    slots: dict[str, tuple[str, ...]]
    staff: frozenset[str]
    customer: frozenset[str]
    everyone: frozenset[str]
    writes: frozenset[str]  # intents that change records: a wrong guess among them damages data

    def allowed(self, role: str) -> frozenset[str]:
        """The role gate: a customer never gets a staff intent, and staff never get customer ones."""
        return (self.customer if role == "customer" else self.staff) | self.everyone

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self.slots)


@cache
def catalogue() -> Catalogue:
    raw = read_json("intents.json")
    groups = {g: raw[g] for g in ("staff", "customer", "everyone")}
    slots = {intent: tuple(s) for group in groups.values() for intent, s in group.items()}
    staff, customer, everyone = (frozenset(groups[g]) for g in ("staff", "customer", "everyone"))
    return Catalogue(slots, staff, customer, everyone, frozenset(raw["writes"]))
