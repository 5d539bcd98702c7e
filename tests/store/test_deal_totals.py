"""deal_totals, kept by triggers, always equals the deals added up afresh, whatever writes them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, delete, func, insert, select, text, update

from assistant.runtime import Runtime
from storage.coltypes import utcnow
from storage.models import Account, Deal, DealTotal, User

STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
PROBABILITY = {"lead": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}


def _fresh(connection: Connection) -> dict[tuple, tuple[int, Decimal, Decimal]]:
    """(stage, owner, close date, closed on) -> (deals, cents, cents x probability), from the deals."""
    out: dict[tuple, tuple[int, Decimal, Decimal]] = {}
    rows = connection.execute(
        select(
            Deal.stage, Deal.owner_id, Deal.close_date, Deal.closed_on, Deal.amount, Deal.probability
        ).where(Deal.deleted_at.is_(None))
    )
    for stage, owner, close, closed, amount, probability in rows:
        cents = (Decimal(str(amount)) * 100).to_integral_value() if amount is not None else Decimal(0)
        n, c, w = out.get((stage, owner, close, closed), (0, Decimal(0), Decimal(0)))
        out[(stage, owner, close, closed)] = (n + 1, c + cents, w + cents * probability)
    return out


def _kept(connection: Connection) -> dict[tuple, tuple[int, Decimal, Decimal]]:
    rows = connection.execute(
        select(
            DealTotal.stage,
            DealTotal.owner_id,
            DealTotal.close_date,
            DealTotal.closed_on,
            DealTotal.deals,
            DealTotal.amount_cents,
            DealTotal.weighted_cents,
        )
    )
    return {
        (stage, owner, close, closed): (n, Decimal(c), Decimal(w))
        for stage, owner, close, closed, n, c, w in rows
        if n
    }


def _seed(connection: Connection, rng: random.Random, n: int) -> None:
    now = utcnow()
    stamp = {"created_at": now, "updated_at": now}
    connection.execute(
        insert(User.__table__),  # type: ignore[arg-type]
        [
            {"id": i, "name": f"Rep {i}", "email": f"rep{i}@t.example", "role": "rep", **stamp}
            for i in (1, 2, 3)
        ],
    )
    connection.execute(
        insert(Account.__table__),  # type: ignore[arg-type]
        [{"id": 1, "name": "Acme", "name_key": "acme", **stamp}],
    )
    today = date(2026, 11, 23)
    rows = []
    for i in range(1, n + 1):
        stage = rng.choice(STAGES)
        close = None if rng.random() < 0.1 else today + timedelta(days=rng.randint(-40, 40))
        amount = None if rng.random() < 0.1 else Decimal(rng.randint(0, 10_000_000)) / 100
        rows.append(
            {
                "id": i,
                "name": f"Deal {i}",
                "name_key": f"deal {i}",
                "account_id": 1,
                "amount": amount,
                "currency": "USD",
                "stage": stage,
                "probability": PROBABILITY[stage],
                "close_date": close,
                "owner_id": rng.choice((1, 2, 3, None)),
                "closed_on": close if stage in ("won", "lost") else None,
                "deleted_at": None,
                **stamp,
            }
        )
    connection.execute(insert(Deal.__table__), rows)  # type: ignore[arg-type]


def test_deal_totals_follow_every_kind_of_write(runtime: Runtime) -> None:
    rng = random.Random(7)
    with runtime.engine.begin() as connection:
        _seed(connection, rng, 300)
    with runtime.engine.begin() as connection:
        assert _kept(connection) == _fresh(connection)
    for step in range(60):
        deal_id = rng.randint(1, 300)
        change = rng.choice(("stage", "owner", "amount", "close", "delete", "undelete", "activity"))
        values: dict[str, object]
        if change == "stage":
            stage = rng.choice(STAGES)
            values = {"stage": stage, "probability": PROBABILITY[stage]}
            values["closed_on"] = date(2026, 11, 23) if stage in ("won", "lost") else None
        elif change == "owner":
            values = {"owner_id": rng.choice((1, 2, 3, None))}
        elif change == "amount":
            values = {"amount": rng.choice((None, Decimal("0.01"), Decimal(rng.randint(1, 999_999)) / 100))}
        elif change == "close":
            values = {"close_date": rng.choice((None, date(2026, 12, rng.randint(1, 31))))}
        elif change == "delete":
            values = {"deleted_at": utcnow()}
        elif change == "undelete":
            values = {"deleted_at": None}
        else:  # a write that touches none of the totalled columns
            values = {"last_activity_at": utcnow()}
        with runtime.engine.begin() as connection:
            connection.execute(update(Deal).where(Deal.id == deal_id).values(**values))
            if step % 20 == 19:
                connection.execute(delete(Deal).where(Deal.id == rng.randint(1, 300)))
            if step % 15 == 14:  # one statement moving many deals, some between the same totals rows
                owner = rng.choice((1, 2, 3))
                connection.execute(
                    update(Deal).where(Deal.owner_id == owner).values(owner_id=rng.choice((1, 2, 3)))
                )
                connection.execute(delete(Deal).where(Deal.id.between(step, step + 5)))
    with runtime.engine.begin() as connection:
        assert _kept(connection) == _fresh(connection)
        assert connection.scalar(select(func.min(DealTotal.deals))) >= 0


def test_a_rolled_back_write_leaves_the_totals_alone(runtime: Runtime) -> None:
    with runtime.engine.begin() as connection:
        _seed(connection, random.Random(3), 20)
    with runtime.engine.connect() as connection:
        before = _kept(connection)
    with runtime.engine.connect() as connection:
        connection.execute(update(Deal).values(stage="won", closed_on=date(2026, 11, 23), probability=100))
        assert _kept(connection) == _fresh(connection) != before  # inside the transaction
        connection.rollback()
    with runtime.engine.connect() as connection:
        assert _kept(connection) == before == _fresh(connection)


def test_truncating_the_deals_empties_the_totals(runtime: Runtime) -> None:
    with runtime.engine.begin() as connection:
        _seed(connection, random.Random(5), 10)
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE deals CASCADE"))
        else:
            connection.execute(delete(Deal))
        assert _kept(connection) == {}
