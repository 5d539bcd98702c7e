"""Figures of deals already closed look back; open deals close ahead (said Monday 2026-11-23).

"What did we win in October" in November is the October just gone, while "deals closing in October" is
the next one: a month, a day or a quarter said without a year reads backwards for won, lost and the
win rate, and forwards for the forecast and close dates.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intents.parser import Parser

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OCT_2026 = {"start": "2026-10-01", "end": "2026-10-31"}
OCT_2027 = {"start": "2027-10-01", "end": "2027-10-31"}


@pytest.mark.parametrize(
    ("said", "intent", "slots"),
    [
        ("what did we win in october", "pipeline_report", {"metric": "won", "period": OCT_2026}),
        ("how much did we lose in october", "pipeline_report", {"metric": "lost", "period": OCT_2026}),
        (
            "win rate in march",
            "pipeline_report",
            {"metric": "win_rate", "period": {"start": "2026-03-01", "end": "2026-03-31"}},
        ),
        ("which deals did we win in october", "query_deals", {"status": "won", "period": OCT_2026}),
        ("forecast for october", "pipeline_report", {"metric": "forecast", "period": OCT_2027}),
        ("deals closing in october", "query_deals", {"period": OCT_2027}),
        (
            "won deals this month",
            "query_deals",
            {"status": "won", "period": {"start": "2026-11-01", "end": "2026-11-30"}},
        ),
    ],
)
def test_closed_deals_look_back(parser: Parser, said: str, intent: str, slots: dict[str, object]) -> None:
    parse = parser.parse(said, NOW)
    assert (parse.intent, parse.slots) == (intent, slots)
