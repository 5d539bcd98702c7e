"""The package's data files (intents/data/*.json), read one way: through importlib.resources, so that
they are found in an installed wheel as well as in a checkout."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def read_json(name: str) -> Any:
    """The parsed contents of intents/data/<name>."""
    return json.loads(resources.files("intents").joinpath(f"data/{name}").read_text("utf-8"))
