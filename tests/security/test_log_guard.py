"""The log guard (tests/log_guard.py) sees a secret wherever it shows, and its list of secrets is the
fixtures' own: a fixture that changes its secret without the guard knowing fails here."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from log_guard import GUARD, SECRETS, Guard, leaks

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("secret", sorted(SECRETS), ids=[what for what, _ in sorted(SECRETS.values())])
def test_each_secret_is_the_value_its_fixture_uses(secret: str) -> None:
    what, where = SECRETS[secret]
    if where.startswith(("tests/", "adapters/")):
        source = (ROOT / where).read_text(encoding="utf-8")
        assert secret in source or where.startswith("adapters/"), f"{what} is no longer in {where}"


def test_a_secret_in_a_log_record_is_reported_by_what_it_is_not_its_value() -> None:
    guard = Guard()  # a guard of its own: the session's guard must stay clean
    record = logging.LogRecord(
        "crm", logging.INFO, __file__, 1, "posting with %s", ("xoxb-test-0000-crm-assistant",), None
    )
    guard.emit(record)
    assert [leak.secret for leak in guard.found] == ["the Slack bot token"]
    assert "xoxb" not in guard.found[0].where


def test_every_kind_of_secret_is_recognised_in_text() -> None:
    for secret, (what, _) in SECRETS.items():
        assert leaks(f"connecting to https://x/{secret}/getMe") == [what]
    assert leaks("log a call with acme; the secret sauce") == []


def test_the_session_guard_listens_at_debug_on_the_root_logger() -> None:
    before = len(GUARD.found)
    logging.getLogger("crm.guard.control").debug("nothing to hide here")
    assert GUARD in logging.getLogger().handlers and GUARD.level == logging.DEBUG
    assert len(GUARD.found) == before


def test_subprocess_output_is_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(GUARD, "check", lambda text, where: seen.append(where) or [])
    subprocess.run([sys.executable, "-c", "print('hello')"], capture_output=True, check=True)
    assert any("stdout of" in where for where in seen)
