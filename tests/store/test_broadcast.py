"""News between processes (assistant/broadcast.py): sent on commit to every other process listening,
not back to the one that sent it, not at all on rollback; a listener whose connection drops listens
again. On SQLite nothing is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from watching import until

from assistant import broadcast
from assistant.runtime import Runtime
from storage.db import transaction

TOPIC = "crm_test_news"
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def heard(runtime: Runtime) -> Iterator[tuple[broadcast.Listener, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []
    listener = broadcast.Listener(runtime, TOPIC, got.append).start()
    assert listener.listening.wait(10)
    yield listener, got
    listener.close()


def notify(session: Session, data: dict[str, Any]) -> None:
    """What another process's publish sends (its own origin)."""
    payload = json.dumps({"origin": "another-process", "data": data})
    session.execute(text("SELECT pg_notify(:topic, :payload)"), {"topic": TOPIC, "payload": payload})


def from_elsewhere(runtime: Runtime, data: dict[str, Any]) -> None:
    with transaction(runtime.sessions) as session:
        notify(session, data)


@POSTGRES_ONLY
def test_news_from_another_process_is_handed_over_and_this_ones_own_is_not(
    runtime: Runtime, heard: tuple[broadcast.Listener, list[dict[str, Any]]]
) -> None:
    _, got = heard
    with transaction(runtime.sessions) as session:
        assert broadcast.publish(session, TOPIC, {"n": "own"})
    from_elsewhere(runtime, {"n": 1})
    assert until(lambda: got == [{"n": 1}], 10), got


@POSTGRES_ONLY
def test_news_of_a_rolled_back_transaction_is_not_sent(
    runtime: Runtime, heard: tuple[broadcast.Listener, list[dict[str, Any]]]
) -> None:
    _, got = heard
    with pytest.raises(RuntimeError), transaction(runtime.sessions) as session:
        notify(session, {"n": 0})
        raise RuntimeError("the turn failed")
    from_elsewhere(runtime, {"n": 1})
    assert until(lambda: got == [{"n": 1}], 10), got


@POSTGRES_ONLY
def test_news_too_big_to_send_is_not_sent(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        assert not broadcast.publish(session, TOPIC, {"text": "x" * broadcast.MAX_PAYLOAD})


@POSTGRES_ONLY
def test_a_listener_whose_connection_drops_listens_again(
    runtime: Runtime, heard: tuple[broadcast.Listener, list[dict[str, Any]]]
) -> None:
    listener, got = heard
    with runtime.engine.connect() as connection:
        dropped = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE :q"),
            {"q": f'LISTEN "{TOPIC}"%'},
        ).all()
    assert dropped == [(True,)]
    assert until(lambda: not listener.listening.is_set(), 10)
    assert until(lambda: listener.listening.is_set(), 15)
    from_elsewhere(runtime, {"n": 2})
    assert until(lambda: got == [{"n": 2}], 10), got


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_nothing_is_sent_on_sqlite(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        assert not broadcast.publish(session, TOPIC, {"n": 1})
