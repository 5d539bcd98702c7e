"""query_deals and pipeline_report: exact answers from the store, as short tables.

forecast = sum(amount x stage probability) over open deals closing in the period;
won / lost = sums of deals won / lost (closed) in the period; win rate = won / (won + lost) by count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, extract, func, select

from assistant import records
from assistant.messages import Reply, Table
from assistant.replies import day, money, percent, say
from assistant.turn import Outcome, Turn
from assistant.when import period
from storage.models import Account, Deal, User
from storage.pipeline import default_pipeline

DEFAULT_LIMIT = 10


def quarter(today: date) -> tuple[date, date]:
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    nxt = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _span_text(span: tuple[date, date] | None, today: date) -> str:
    if span is None:
        return ""
    if span[0] == span[1]:
        return f" ({day(span[0], today)})"
    return f" ({span[0]:%-d %b} – {span[1]:%-d %b %Y})"


def query_deals(turn: Turn, slots: dict[str, Any]) -> Outcome:
    pipeline = default_pipeline()
    today = turn.now.date()
    query: Select[Any] = select(Deal).where(Deal.deleted_at.is_(None))
    status = slots.get("status")
    stage = slots.get("stage")
    if stage:
        query = query.where(Deal.stage == stage)
    elif status in ("won", "lost"):
        query = query.where(Deal.stage == status)
    else:
        query = query.where(Deal.stage.in_(pipeline.open_keys))
    span = period(slots.get("period"))
    if span:
        column = (
            Deal.closed_on if (status in ("won", "lost") or stage in ("won", "lost")) else Deal.close_date
        )
        query = query.where(column >= span[0], column <= span[1])
    owner = records.user(turn, slots.get("owner"))
    if owner is not None:
        query = query.where(Deal.owner_id == owner.id)
    if slots.get("account"):
        account = records.account(turn, slots)
        query = query.where(Deal.account_id == account.id)  # type: ignore[union-attr]
        turn.remember(account_id=account.id)  # type: ignore[union-attr]
    if slots.get("min_amount") is not None:
        query = query.where(Deal.amount >= Decimal(str(slots["min_amount"])))
    if slots.get("max_amount") is not None:
        query = query.where(Deal.amount <= Decimal(str(slots["max_amount"])))
    if slots.get("inactive_days"):
        since = turn.now - timedelta(days=int(slots["inactive_days"]))
        query = query.where((Deal.last_activity_at.is_(None)) | (Deal.last_activity_at < since))
    matching = query.subquery()
    totals = select(func.count(), func.coalesce(func.sum(matching.c.amount), 0))
    count_total = turn.session.execute(totals).one()
    if slots.get("sort") == "amount":
        query = query.order_by(Deal.amount.desc().nulls_last(), Deal.id)
    else:
        # coalesce, not NULLS LAST: no index serves it, so the planner filters first and then sorts
        query = query.order_by(func.coalesce(Deal.close_date, date(9999, 12, 31)), Deal.id)
    limit = int(slots.get("limit") or DEFAULT_LIMIT)
    deals = list(turn.session.scalars(query.limit(limit)))
    if not deals:
        return Reply(say("no_deals"))
    accounts = dict(
        turn.session.execute(
            select(Account.id, Account.name).where(Account.id.in_({d.account_id for d in deals}))
        ).all()
    )
    owners = dict(
        turn.session.execute(
            select(User.id, User.name).where(User.id.in_({d.owner_id for d in deals if d.owner_id}))
        ).all()
    )
    rows = tuple(
        (
            d.name,
            accounts.get(d.account_id, "-"),
            pipeline.stage(d.stage).label,
            money(d.amount) if d.amount is not None else "-",
            day(d.close_date, today),
            owners.get(d.owner_id, "-") if d.owner_id else "-",
        )
        for d in deals
    )
    shown_total = sum((d.amount or Decimal(0)) for d in deals)
    n, amount = count_total
    title = f"{n} deal{'s' if n != 1 else ''} worth {money(amount)}" + (
        f" (showing {len(deals)}, {money(shown_total)})" if n > len(deals) else ""
    )
    if len(deals) == 1:
        turn.remember(deal_id=deals[0].id, account_id=deals[0].account_id)
    table = Table(
        ("Deal", "Account", "Stage", "Amount", "Close", "Owner"),
        rows,
        (False, False, False, True, False, False),
        ("Total", "", "", money(shown_total), "", ""),
    )
    return Reply(say("deals_header", title=title), table=table)


GROUPS = {"stage": Deal.stage, "owner": User.name, "account": Account.name}


def pipeline_report(turn: Turn, slots: dict[str, Any]) -> Outcome:
    pipeline = default_pipeline()
    today = turn.now.date()
    metric = slots.get("metric") or "pipeline"
    span = period(slots.get("period"))
    if span is None and metric in ("forecast", "won", "lost", "win_rate"):
        span = quarter(today)
    closed = metric in ("won", "lost", "win_rate")
    group = slots.get("group_by")
    query: Select[Any] = select().select_from(Deal).where(Deal.deleted_at.is_(None))
    if group == "owner":  # join only what the grouping names: the aggregate stays on the deals index
        query = query.outerjoin(User, Deal.owner_id == User.id)
    elif group == "account":
        query = query.join(Account, Deal.account_id == Account.id)
    if closed:
        stages = ("won", "lost") if metric == "win_rate" else (metric,)
        query = query.where(Deal.stage.in_(stages))
        if span:
            query = query.where(Deal.closed_on >= span[0], Deal.closed_on <= span[1])
    else:
        query = query.where(Deal.stage.in_(pipeline.open_keys))
        if span:
            query = query.where(Deal.close_date >= span[0], Deal.close_date <= span[1])
    owner = records.user(turn, slots.get("owner"))
    if owner is not None:
        query = query.where(Deal.owner_id == owner.id)
    value = func.sum(Deal.amount * Deal.probability) / 100 if metric == "forecast" else func.sum(Deal.amount)
    won = func.sum(case((Deal.stage == "won", 1), else_=0))
    columns = [func.count(), func.coalesce(value, 0), func.coalesce(won, 0)]
    if group == "month":
        date_column = Deal.closed_on if closed else Deal.close_date
        keys = [extract("year", date_column), extract("month", date_column)]
    elif group in GROUPS:
        keys = [GROUPS[group]]
    else:
        keys = []
    if keys:  # one grouped query; the totals are the sums of its rows
        rows = turn.session.execute(query.add_columns(*keys, *columns).group_by(*keys)).all()
        n = len(keys)
        count, amount, wins = (sum(r[n + i] or 0 for r in rows) for i in range(3))
    else:
        rows = []
        count, amount, wins = turn.session.execute(query.add_columns(*columns)).one()
    scope = _span_text(span, today) + (f" for {owner.name}" if owner else "")
    text = _headline(metric, int(count), Decimal(amount), int(wins)) + scope + "."
    table = None
    if rows:
        table = _group_table(group, rows, metric, len(keys), pipeline)
    return Reply(say("report", text=text), table=table)


def _headline(metric: str, count: int, amount: Decimal, wins: int) -> str:
    plural = "s" if count != 1 else ""
    if metric == "forecast":
        return f"Forecast {money(amount)} from {count} open deal{plural}"
    if metric == "won":
        return f"Won {money(amount)} in {count} deal{plural}"
    if metric == "lost":
        return f"Lost {money(amount)} in {count} deal{plural}"
    if metric == "win_rate":
        rate = wins / count if count else 0.0
        return f"Win rate {percent(rate)} ({wins} won of {count} closed)"
    if metric == "count":
        return f"{count} open deal{plural} worth {money(amount)}"
    return f"Pipeline {money(amount)} in {count} open deal{plural}"


def _group_table(group: str | None, rows: list[Any], metric: str, nkeys: int, pipeline: Any) -> Table:
    label = {"stage": "Stage", "owner": "Owner", "month": "Month", "account": "Account"}[group or "stage"]
    out = []
    for row in rows:
        keys, (count, amount, wins) = row[:nkeys], row[nkeys:]
        if group == "month":
            name = datetime(int(keys[0]), int(keys[1]), 1).strftime("%b %Y") if keys[0] else "no date"
        elif group == "stage":
            name = pipeline.stage(keys[0]).label
        else:
            name = keys[0] or "nobody"
        figure = percent(wins / count if count else 0.0) if metric == "win_rate" else money(Decimal(amount))
        out.append((name, str(count), figure, Decimal(amount)))
    if group == "stage":
        order = {s.label: i for i, s in enumerate(pipeline.stages)}
        out.sort(key=lambda r: order.get(r[0], 99))
    elif group != "month":
        out.sort(key=lambda r: -r[3])
    return Table(
        (label, "Deals", "Win rate" if metric == "win_rate" else "Amount"),
        tuple(r[:3] for r in out),
        (False, True, True),
    )
