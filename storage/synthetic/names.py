"""The names a synthetic store is made of: word lists from names.json, and unique company names built
from syllables ('Kalover Analytics GmbH'), so a store of a million deals has no two accounts alike."""

from __future__ import annotations

import json
import random
from functools import cache
from importlib import resources

from storage.models import name_key


@cache
def words(kind: str) -> tuple[str, ...]:
    """One list of names.json: syllables, industry_words, legal_suffixes, industries, first_names,
    last_names, staff_first, staff_last or titles."""
    lists = json.loads(resources.files("storage.synthetic").joinpath("names.json").read_text("utf-8"))
    return tuple(lists[kind])


class CompanyNames:
    """Unique, varied company names built from syllables, with legal suffixes: 'Kalover Analytics GmbH'."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken  # name keys of live accounts
        self.cores: set[str] = set()

    def _word(self) -> str:
        return "".join(self.rng.choices(words("syllables"), k=self.rng.choice((2, 2, 3)))).title()

    def next(self) -> tuple[str, str]:
        """(full name, core name): the core is what deals are named after and is unique too."""
        while True:
            shape = self.rng.random()
            if shape < 0.45:
                core = f"{self._word()} {self.rng.choice(words('industry_words'))}"
            elif shape < 0.75:
                core = self._word()
            elif shape < 0.9:
                core = f"{self._word()} {self._word()}"
            else:
                core = f"{self._word()} & {self._word()}"
            name = f"{core} {self.rng.choice(words('legal_suffixes'))}"
            key, core_key = name_key(name), name_key(core)
            if key in self.taken or core_key in self.cores or len(core_key) < 5:
                continue
            self.taken.add(key)
            self.cores.add(core_key)
            return name, core
