"""The fault tests drive `crm serve` against the fake Slack of tests/slack."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "slack"))
