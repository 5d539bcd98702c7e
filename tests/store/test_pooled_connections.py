"""PostgreSQL's pooled connections: one that sat idle is pinged and, if the server dropped it meanwhile,
replaced before a turn uses it; one back from use a moment ago goes straight to work, with no round trip
spent on a ping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from storage import db


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = db.make_engine(postgres_url)
    yield made
    made.dispose()


def backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def drop(postgres_url: str, pid: int) -> None:
    """What a server restart or a firewall's idle timeout does to a pooled connection."""
    other = create_engine(postgres_url)
    with other.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    other.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend(engine)
    drop(postgres_url, first)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    assert backend(engine) != first


def test_a_connection_just_used_is_not_pinged(engine: Engine, postgres_url: str) -> None:
    first = backend(engine)
    assert backend(engine) == first  # the pool hands the same connection back
    drop(postgres_url, first)
    with pytest.raises(OperationalError):  # no ping found it dead: the statement itself does
        backend(engine)
    assert backend(engine) != first  # and the pool has replaced it for the next one
