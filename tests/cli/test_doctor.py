"""`crm doctor`: one line per check (ok, warn, FAIL, skip), each problem said plainly with its fix; exit 1
when anything failed; channels checked with one harmless call against fakes on 127.0.0.1; no token shown."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

TESTS = Path(__file__).resolve().parents[1]
for _folder in ("slack", "telegram"):  # the fakes of Slack and of the Bot API live beside their tests
    if str(TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(TESTS / _folder))

from fake_bot_api import TOKEN as TELEGRAM_TOKEN  # noqa: E402
from fake_bot_api import FakeBotApi  # noqa: E402
from fake_slack import BOT_TOKEN as SLACK_TOKEN  # noqa: E402
from fake_slack import SIGNING_SECRET, FakeSlack  # noqa: E402

from adapters.cli.main import main  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine  # noqa: E402

MB = 1024 * 1024
SETTINGS = (  # everything the doctor reads from the environment: a test sets only what it means
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "CRM_SLACK_API_URL",
    "TELEGRAM_BOT_TOKEN",
    "CRM_TELEGRAM_API_URL",
    "CRM_TELEGRAM_WEBHOOK_URL",
    "CRM_WEB_SECRET",
    "CRM_WEB_ORIGINS",
    "CRM_WEB_PORT",
    "CRM_ASR_ENGINE",
    "CRM_VOSK_MODEL",
    "CRM_WHISPER_MODEL",
    "CRM_DATABASE_URL",
    "CRM_TIMEZONE",
    "CRM_NOW",
)
WRONG_TELEGRAM_TOKEN = "987654321:AAThisTokenWasNeverIssuedByBotFather"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.close()


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["doctor", "--tz", "UTC", *args])
    out, err = capsys.readouterr()
    return status, out, err


def line(out: str, name: str) -> str:
    """The one report line of check `name` (the first, where there are several)."""
    found = [row for row in out.splitlines() if row[6:].split(" ")[0] == name]
    assert found, f"no {name} line in:\n{out}"
    return found[0]


def set_revision(url: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


# --- the store ----------------------------------------------------------------------------------------


def test_a_healthy_store_is_ok_and_the_exit_status_is_0(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert line(out, "database").startswith("ok ")
    assert f"newest revision ({migrate.head_revision()})" in line(out, "database")
    assert line(out, "settings").startswith("ok ") and "UTC" in line(out, "settings")
    assert status == 0, out
    assert out.rstrip().endswith("All good.") and err == ""


def test_a_store_at_an_old_revision_fails_with_crm_init_as_the_fix(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head = migrate.head_revision()
    assert head is not None
    set_revision(database_url, "0005")
    try:
        status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    finally:
        set_revision(database_url, head)  # the PostgreSQL database is shared by the run
    assert status == 1
    row = line(out, "database")
    assert row.startswith("FAIL ")
    assert f"old schema revision (0005; this version needs {head})" in row
    assert row.endswith("fix: crm init with the same --db")


def test_a_file_without_the_schema_fails_with_crm_init_as_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite3"
    make_engine(f"sqlite:///{empty}").connect().close()  # a SQLite file, but no CRM in it
    status, out, _ = doctor(capsys, "--db", f"sqlite:///{empty}", "--min-free", "0")
    assert status == 1
    assert "has no CRM schema yet; fix: crm init" in line(out, "database")


def test_a_missing_file_is_not_created_by_the_doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "crm.sqlite3"
    status, out, _ = doctor(capsys, "--db", f"sqlite:///{missing}", "--min-free", "0")
    assert status == 1
    assert line(out, "database").startswith(f"FAIL  database   there is no database at {missing} yet")
    assert line(out, "database").endswith("fix: crm init with the same --db")
    assert not missing.exists()


def test_a_file_that_is_no_database_fails_in_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.sqlite3"
    notes.write_text("shopping list: milk, eggs\n" * 200)
    status, out, err = doctor(capsys, "--db", f"sqlite:///{notes}", "--min-free", "0")
    assert status == 1
    assert line(out, "database") == (
        f"FAIL  database   cannot use {notes}: file is not a database; "
        "fix: point --db / CRM_DATABASE_URL at the CRM's file"
    )
    assert "Traceback" not in out + err


def test_a_store_newer_than_this_version_says_to_upgrade_crm(
    tmp_path: Path, sqlite_template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crm.sqlite3"
    shutil.copy(sqlite_template, path)
    set_revision(f"sqlite:///{path}", "0099")
    status, out, _ = doctor(capsys, "--db", f"sqlite:///{path}", "--min-free", "0")
    assert status == 1
    row = line(out, "database")
    assert "at revision 0099, newer than this version knows" in row
    assert "fix: pip install --upgrade crm-assistant" in row


def test_an_unreachable_postgresql_fails_in_one_plain_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://crm:hunter2secret@127.0.0.1:1/crm"  # nothing listens on port 1
    status, out, err = doctor(capsys, "--db", url, "--min-free", "0")
    assert status == 1
    row = line(out, "database")
    assert row.startswith(
        "FAIL  database   cannot reach the database at postgresql+psycopg://crm:***@127.0.0.1:1/crm"
    )
    assert "fix: start the database server" in row
    assert "Traceback" not in out + err and "hunter2secret" not in out + err
    assert "disk" in out  # the other checks still ran


def test_an_unknown_time_zone_fails_with_the_setting_that_fixes_it(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0", "--tz", "Mars/Olympus")
    assert status == 1
    assert line(out, "settings").startswith("FAIL  settings   unknown time zone 'Mars/Olympus'")
    assert "fix: --tz ZONE or CRM_TIMEZONE" in line(out, "settings")


# --- disk space ---------------------------------------------------------------------------------------


def test_too_little_free_space_fails_and_little_warns(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The threshold is injected (--min-free), so nothing fills the disk: more than any disk holds fails,
    and two thirds of what the store's disk has free is under twice the minimum, so it warns."""
    status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "1e12")
    assert status == 1
    disks = [row for row in out.splitlines() if row[6:].startswith("disk")]
    assert disks and all(row.startswith("FAIL ") and "1e+12 MB is the minimum" in row for row in disks)
    assert "fix: free space on " in disks[0]

    free_mb = shutil.disk_usage(tmp_path).free / MB
    _, out, _ = doctor(capsys, "--db", database_url, "--min-free", str(round(free_mb / 1.5)))
    if database_url.startswith("sqlite"):  # the store's own disk: PostgreSQL's is the server's
        store = next(row for row in out.splitlines() if "for the database" in row)
        assert store.startswith("warn  disk       only ") and str(tmp_path) in store


# --- channels -----------------------------------------------------------------------------------------


def test_channels_not_configured_are_skipped_not_failed(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 0
    assert line(out, "slack").startswith(
        "skip  slack      not configured: crm serve --slack needs SLACK_BOT_TOKEN"
    )
    assert line(out, "telegram").startswith("skip  telegram   not configured: crm serve --telegram needs")
    assert line(out, "web").startswith(
        "skip  web        not configured: crm serve --web needs CRM_WEB_SECRET"
    )


def test_a_working_slack_token_is_ok_after_one_auth_test(
    database_url: str,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("CRM_SLACK_API_URL", slack.api_url)
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 0
    assert line(out, "slack") == (
        "ok    slack      the bot token works (@UCRMBOT in Northwind); HTTP on port 3000, path /slack/events"
    )
    assert [(c.method, c.token) for c in slack.calls] == [("auth.test", SLACK_TOKEN)]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (SLACK_TOKEN, SIGNING_SECRET):
        assert secret not in out + err + logged


def test_a_refused_slack_token_fails_with_where_to_find_the_right_one(
    database_url: str,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.fail["auth.test"] = "invalid_auth"
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-test-app-token")
    monkeypatch.setenv("CRM_SLACK_API_URL", slack.api_url)
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 1
    row = line(out, "slack")
    assert row.startswith("FAIL  slack      Slack refused the bot token (invalid_auth); fix: SLACK_BOT_TOKEN")
    assert "OAuth & Permissions" in row
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (SLACK_TOKEN, "xapp-1-A0-test-app-token"):
        assert secret not in out + err + logged


def test_slack_settings_that_cannot_be_used_fail_with_what_to_set(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)  # neither an app token nor a signing secret
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 1
    assert "set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET" in line(out, "slack")
    assert SLACK_TOKEN not in out + err


def test_an_unreachable_slack_fails_plainly(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("CRM_SLACK_API_URL", "http://127.0.0.1:1/api/")
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 1
    assert line(out, "slack") == (
        "FAIL  slack      cannot reach Slack's Web API at http://127.0.0.1:1/api/: Connection refused; "
        "fix: check the network and proxy, or CRM_SLACK_API_URL"
    )
    assert "Traceback" not in out + err


def test_a_working_telegram_token_is_ok_after_one_get_me(
    database_url: str,
    bot_api: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("CRM_TELEGRAM_API_URL", bot_api.base_url)
    status, out, err = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 0
    assert line(out, "telegram") == "ok    telegram   the bot token works (@crm_test_bot); long polling"
    assert [call.method for call in bot_api.calls()] == ["getMe"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert TELEGRAM_TOKEN not in out + err + logged


def test_a_refused_telegram_token_fails_without_showing_it(
    database_url: str,
    bot_api: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """python-telegram-bot writes a refused token into its error and its debug log; neither is shown."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", WRONG_TELEGRAM_TOKEN)
    monkeypatch.setenv("CRM_TELEGRAM_API_URL", bot_api.base_url)
    status, out, err = doctor(capsys, "--json", "--db", database_url, "--min-free", "0")
    assert status == 1
    report = json.loads(out)
    [telegram] = [check for check in report["checks"] if check["name"] == "telegram"]
    assert telegram == {
        "name": "telegram",
        "status": "FAIL",
        "says": "Telegram refused the bot token",
        "fix": "TELEGRAM_BOT_TOKEN: the token @BotFather gives (send it /token)",
    }
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert WRONG_TELEGRAM_TOKEN not in out + err + logged


def test_web_chat_settings_are_checked_for_sanity(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRM_WEB_SECRET", "short")
    monkeypatch.setenv("CRM_WEB_ORIGINS", "https://shop.example.com")
    status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 1
    assert "CRM_WEB_SECRET is too short: at least 16 characters" in line(out, "web")

    monkeypatch.setenv("CRM_WEB_SECRET", "a-long-random-secret-for-visitor-ids")
    monkeypatch.setenv("CRM_WEB_ORIGINS", "https://shop.example.com,http://www.example.com")
    status, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert status == 0  # a warning fails nothing
    assert line(out, "web").startswith("warn  web        http://www.example.com is plain http")
    assert "a-long-random-secret" not in out

    monkeypatch.setenv("CRM_WEB_ORIGINS", "https://shop.example.com")
    _, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert line(out, "web") == "ok    web        port 8080, for https://shop.example.com"


# --- speech -------------------------------------------------------------------------------------------


def test_the_default_speech_engine_and_espeak_are_found(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = doctor(capsys, "--db", database_url, "--min-free", "0")
    assert line(out, "speech").startswith("ok    speech     pocketsphinx: PocketSphinx model at ")
    assert line(out, "espeak-ng").startswith("ok    espeak-ng  ")


@pytest.mark.parametrize(
    ("engine", "model", "says", "fix"),
    [
        (
            "klingon",
            None,
            "CRM_ASR_ENGINE names no speech engine: 'klingon'",
            "CRM_ASR_ENGINE one of pocketsphinx",
        ),
        ("vosk", None, "the Vosk engine needs a model and CRM_VOSK_MODEL is not set", "CRM_VOSK_MODEL=DIR"),
        ("vosk", "missing", "CRM_VOSK_MODEL names no folder", "CRM_VOSK_MODEL=DIR"),
        ("vosk+whisper", "empty", "is not a Vosk model folder", "CRM_VOSK_MODEL=DIR"),
    ],
)
def test_a_speech_engine_that_cannot_run_fails_with_its_setting(
    engine: str,
    model: str | None,
    says: str,
    fix: str,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_ASR_ENGINE", engine)
    if model is not None:
        folder = tmp_path / model
        if model == "empty":
            folder.mkdir()
        monkeypatch.setenv("CRM_VOSK_MODEL", str(folder))
    shutil.copy(sqlite_template, tmp_path / "crm.sqlite3")
    status, out, _ = doctor(capsys, "--db", f"sqlite:///{tmp_path / 'crm.sqlite3'}", "--min-free", "0")
    assert status == 1
    row = line(out, "speech")
    assert row.startswith("FAIL  speech     ") and says in row and f"fix: {fix}" in row


# --- for machines -------------------------------------------------------------------------------------


def test_json_is_one_object_with_every_check(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = doctor(capsys, "--json", "--db", database_url, "--min-free", "0")
    report = json.loads(out)
    assert set(report) == {"ok", "checks"}
    assert report["ok"] is True and status == 0
    names = [check["name"] for check in report["checks"]]
    assert {"settings", "database", "disk", "slack", "telegram", "web", "speech", "espeak-ng"} <= set(names)
    for check in report["checks"]:
        assert set(check) == {"name", "status", "says", "fix"}
        assert check["status"] in ("ok", "warn", "FAIL", "skip")
        assert isinstance(check["says"], str) and check["says"]
        assert check["fix"] is None or isinstance(check["fix"], str)


def test_help_names_the_checks_and_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["doctor", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: crm doctor" in out and "--json" in out and "--min-free MB" in out
