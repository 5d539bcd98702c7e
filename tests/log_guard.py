"""A pytest plugin (tests/conftest.py loads it): no secret the suite knows ever shows in what it produced.

For the whole session it looks at every log record (a root handler at DEBUG, put back if a command
replaces the root's handlers), at the output a test read with capsys/capfd, at the captured output
pytest keeps per test, and at what subprocesses wrote to a pipe (a `crm` command run for real). At the
end, any secret found fails the run, naming the secret and where it showed.

The secrets are the fixtures' own values, collected here in one place; tests/security checks that each
still is what the fixture file says, so renaming one there cannot silently blind the guard.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from _pytest.capture import CaptureFixture
from sqlalchemy.engine import make_url

from adapters.telegram.settings import derived_secret

TELEGRAM_TOKEN = "123456789:AAFakeTokenForCrmAssistantTests00"
# secret value -> (what it is, the fixture file that holds it)
SECRETS: dict[str, tuple[str, str]] = {
    "xoxb-test-0000-crm-assistant": ("the Slack bot token", "tests/slack/fake_slack.py"),
    "8f742231b10e8888abcd99yyyzzz85a5": ("the Slack signing secret", "tests/slack/fake_slack.py"),
    "xapp-1-test-socket-mode": ("the Slack app token", "tests/slack/test_slack_socket_mode.py"),
    TELEGRAM_TOKEN: ("the Telegram bot token", "tests/telegram/fake_bot_api.py"),
    "987654321:AAAnotherBotsTokenNotOurs0000": (
        "another Telegram bot's token",
        "tests/telegram/test_telegram_serve.py",
    ),
    derived_secret(TELEGRAM_TOKEN): ("the Telegram webhook secret", "adapters/telegram/settings.py"),
    "test-secret-0123456789-abcdefghij": ("CRM_WEB_SECRET", "tests/web/web_world.py"),
    "s3cret": ("the database password", "tests/store/test_backup.py"),
}
_password = make_url(os.environ.get("CRM_TEST_POSTGRES_URL") or "sqlite://").password
if _password:
    SECRETS[str(_password)] = ("the password of CRM_TEST_POSTGRES_URL", "the environment")


def leaks(text: str, secrets: Iterable[str] = SECRETS) -> list[str]:
    """What each secret found in `text` is (empty when there is none)."""
    return [SECRETS.get(secret, (secret, ""))[0] for secret in secrets if secret in text]


@dataclass
class Leak:
    secret: str  # what it is, never the value itself
    where: str


@dataclass
class Guard(logging.Handler):
    found: list[Leak] = field(default_factory=list)
    test: str = "(outside a test)"

    def __post_init__(self) -> None:
        super().__init__(logging.DEBUG)

    def __hash__(self) -> int:  # a handler lives in sets and lists by identity
        return id(self)

    def check(self, text: object, where: str) -> list[str]:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        found = leaks(text) if isinstance(text, str) else []
        self.found += [Leak(secret, f"{where} in {self.test}") for secret in found]
        return found

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: its raw parts, then
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.check(text, f"a log record of {record.name}")


GUARD = Guard()


def _install() -> None:
    root = logging.getLogger()
    if GUARD not in root.handlers:  # `crm` commands run in process replace the root's handlers
        root.addHandler(GUARD)


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)  # every record is made, so every record is looked at
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)  # its statements stay as quiet as before
    _install()

    read = CaptureFixture.readouterr

    def readouterr(self: CaptureFixture[Any]) -> Any:
        captured = read(self)
        GUARD.check(captured.out, "stdout read by the test")
        GUARD.check(captured.err, "stderr read by the test")
        return captured

    communicate = subprocess.Popen.communicate

    def guarded(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        out, err = communicate(self, *args, **kwargs)
        GUARD.check(out, f"stdout of {self.args!r}")
        GUARD.check(err, f"stderr of {self.args!r}")
        return out, err

    CaptureFixture.readouterr = readouterr  # type: ignore[method-assign]
    subprocess.Popen.communicate = guarded  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    GUARD.test = item.nodeid
    _install()
    try:
        return (yield)
    finally:
        _install()
        GUARD.test = "(outside a test)"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for title, content in report.sections:  # captured stdout, stderr and log kept for this test
        GUARD.check(content, title.lower())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not GUARD.found:
        return
    lines = [f"  {leak.secret}: {leak.where}" for leak in GUARD.found[:50]]
    message = "log guard: a secret showed in what the suite produced:\n" + "\n".join(lines)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message, red=True)
    else:
        print(message)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
