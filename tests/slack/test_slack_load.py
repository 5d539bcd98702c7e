"""200 Slack events at once (loopback only): every one acknowledged within Slack's 3 s, answered once."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from load import run_load
from slack_world import Workspace

from storage.models import Activity

pytestmark = pytest.mark.slow


def test_200_concurrent_events_are_acknowledged_in_time_and_answered_once(
    workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="waitress.queue")
    result = run_load(workspace.url, workspace.fake, events=200)
    assert result.statuses == Counter({200: 200})
    assert max(result.ack_seconds) < 3.0, result.figures()
    assert result.answered_once, result.replies_per_event
    with workspace.runtime.sessions() as session:
        logged = session.query(Activity).filter(Activity.channel == "slack").count()
    assert logged == 200 // 8  # "log a call with Globex" is one turn in eight: each logged once
    # requests waiting for an HTTP thread are warned about once a minute, not once each
    assert len([r for r in caplog.records if r.name == "waitress.queue"]) <= 1
