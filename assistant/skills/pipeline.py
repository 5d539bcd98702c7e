"""query_deals and pipeline_report: exact answers from the store, as short tables.

forecast = sum(amount x stage probability) over open deals closing in the period, said beside what was
won (closed) in the period already;
won / lost = sums of deals won / lost (closed) in the period; win rate = won / (won + lost) by count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, SQLColumnExpression, bindparam, case, extract, func, literal, select, union_all

from assistant import records
from assistant.messages import Chart, Reply, Table
from assistant.replies import day, money, percent, say
from assistant.skills.quiet import active_since, quiet_since
from assistant.turn import Outcome, Turn
from assistant.when import period
from storage.models import Account, Deal, DealTotal, User
from storage.pipeline import default_pipeline

DEFAULT_LIMIT = 10
_NAMES = union_all(  # the names of the accounts and owners of the deals shown: built once
    select(literal("account"), Account.id, Account.name).where(
        Account.id.in_(bindparam("accounts", expanding=True))
    ),
    select(literal("owner"), User.id, User.name).where(User.id.in_(bindparam("owners", expanding=True))),
)


def quarter(today: date) -> tuple[date, date]:
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    nxt = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _span_text(span: tuple[date, date] | None, today: date) -> str:
    if span is None:
        return ""
    if span[0] == span[1]:
        return say("report_span_day", day=day(span[0], today))
    return say("report_span", start=f"{span[0]:%-d %b}", end=f"{span[1]:%-d %b %Y}")


def query_deals(turn: Turn, slots: dict[str, Any]) -> Outcome:
    pipeline = default_pipeline()
    today = turn.now.date()
    query: Select[Any] = select(Deal).where(Deal.deleted_at.is_(None))
    status = slots.get("status")
    stage = slots.get("stage")
    if stage:
        stages: tuple[str, ...] = (stage,)
    elif status in ("won", "lost"):
        stages = (status,)
    else:
        stages = pipeline.open_keys
    query = query.where(Deal.stage == stages[0] if len(stages) == 1 else Deal.stage.in_(stages))
    span = period(slots.get("period"))
    span_column = "closed_on" if (status in ("won", "lost") or stage in ("won", "lost")) else "close_date"
    if span:
        column = getattr(Deal, span_column)
        query = query.where(column >= span[0], column <= span[1])
    owner = records.user(turn, slots.get("owner"))
    if owner is not None:
        query = query.where(Deal.owner_id == owner.id)
    if slots.get("account"):
        account = records.account(turn, slots)
        query = query.where(Deal.account_id == account.id)
        turn.remember(account_id=account.id)
    if slots.get("min_amount") is not None:
        query = query.where(Deal.amount >= Decimal(str(slots["min_amount"])))
    if slots.get("max_amount") is not None:
        query = query.where(Deal.amount <= Decimal(str(slots["max_amount"])))
    since = None
    if slots.get("inactive_days"):
        since = turn.now - timedelta(days=int(slots["inactive_days"]))
    totalled = query  # without the inactivity filter, which the totals may take from deal_totals
    if since is not None:
        query = query.where(quiet_since(since))
    summable = (
        not slots.get("account") and slots.get("min_amount") is None and slots.get("max_amount") is None
    )
    if summable:
        count_total = _deal_totals(turn, totalled, since, stages, span_column, span, owner)
    else:
        matching = query.subquery()
        totals = select(func.count(), func.coalesce(func.sum(matching.c.amount), 0))
        count_total = turn.session.execute(totals).one()
    by_amount = slots.get("sort") == "amount"
    order: tuple[SQLColumnExpression[Any], ...]
    if by_amount:
        order = (Deal.amount.desc().nulls_last(), Deal.id)
    else:
        # coalesce, not NULLS LAST: no index serves it, so SQLite filters first and then sorts
        order = (func.coalesce(Deal.close_date, date(9999, 12, 31)), Deal.id)
    limit = int(slots.get("limit") or DEFAULT_LIMIT)
    if len(stages) > 1 and turn.session.get_bind().dialect.name == "postgresql":
        query = _first_per_stage(query, stages, by_amount, limit)
    # the shown deals as plain rows (no objects to build), then their accounts' and owners' names in one
    # more round trip; joined into the deals query, the names would change SQLite's plan (2x slower)
    columns = (Deal.id, Deal.name, Deal.account_id, Deal.stage, Deal.amount, Deal.close_date, Deal.owner_id)
    deals = turn.session.execute(query.with_only_columns(*columns).order_by(*order).limit(limit)).all()
    if not deals:
        return Reply(say("no_deals"))
    ids = {
        "accounts": list({d.account_id for d in deals}),
        "owners": list({d.owner_id for d in deals if d.owner_id}),
    }
    names = {(kind, key): name for kind, key, name in turn.session.execute(_NAMES, ids)}
    rows = tuple(
        (
            d.name,
            names.get(("account", d.account_id), "-"),
            pipeline.stage(d.stage).label,
            money(d.amount) if d.amount is not None else "-",
            day(d.close_date, today),
            names.get(("owner", d.owner_id), "-"),
        )
        for d in deals
    )
    shown_total = sum((d.amount or Decimal(0)) for d in deals)
    n, amount = count_total
    showing = say("deals_showing", shown=len(deals), amount=money(shown_total)) if n > len(deals) else ""
    if len(deals) == 1:
        turn.remember(deal_id=deals[0].id, account_id=deals[0].account_id)
    turn.show("deal", [d.id for d in deals])
    table = Table(
        ("Deal", "Account", "Stage", "Amount", "Close", "Owner"),
        rows,
        (False, False, False, True, False, False),
        ("Total", "", "", money(shown_total), "", ""),
    )
    return Reply(say("deals_header", count=n, amount=money(amount), showing=showing), table=table)


def _deal_totals(
    turn: Turn,
    matching: Select[Any],
    since: datetime | None,
    stages: tuple[str, ...],
    span_column: str,
    span: tuple[date, date] | None,
    owner: Any,
) -> tuple[int, Decimal]:
    """(count, amount) of the deals `matching` selects, read from deal_totals.

    `matching` filters only on what deal_totals is keyed by (stage, period, owner); "no activity since"
    is the totals less the deals active since (assistant/skills/quiet.py): those with a later activity,
    counted from ix_deals_recent_activity, and those without any created later.
    """
    query, _k = _totals_statement(
        False, span_column == "closed_on", None, span is not None, owner is not None
    )
    count, cents, _wins = turn.session.execute(query, _bound(stages, span, owner)).one()
    amount = Decimal(cents) / 100
    for part in active_since(since) if since is not None else ():
        active = matching.where(part).subquery()
        recent = select(func.count(), func.coalesce(func.sum(active.c.amount), 0))
        n, value = turn.session.execute(recent).one()
        count, amount = count - n, amount - Decimal(value)
    return int(count), amount


def _first_per_stage(query: Select[Any], stages: tuple[str, ...], by_amount: bool, limit: int) -> Select[Any]:
    """PostgreSQL: the first `limit` deals of each stage, for the caller to order and cut again.

    A B-tree cannot give `stage IN (...)` rows in close-date order, so the plain query reads and sorts
    every open deal (half a million of a million); one ordered walk of ix_deals_pipeline per stage reads
    a few dozen. The caller's order (coalesce(close_date, 9999-12-31), id) equals close_date NULLS LAST,
    id here except between a missing close date and 31 Dec 9999.
    """
    order = (Deal.amount.desc().nulls_last(), Deal.id) if by_amount else (Deal.close_date.asc(), Deal.id)
    ids = query.with_only_columns(Deal.id)
    branches = [
        ids.where(Deal.stage == stage).order_by(*order).limit(limit).subquery().select() for stage in stages
    ]
    return query.where(Deal.id.in_(union_all(*branches).scalar_subquery()))


def pipeline_report(turn: Turn, slots: dict[str, Any]) -> Outcome:
    pipeline = default_pipeline()
    today = turn.now.date()
    metric = slots.get("metric") or "pipeline"
    span = period(slots.get("period"))
    if span is None and metric in ("forecast", "won", "lost", "win_rate"):
        span = quarter(today)
    closed = metric in ("won", "lost", "win_rate")
    group = slots.get("group_by")
    owner = records.user(turn, slots.get("owner"))
    if closed:
        stages: tuple[str, ...] = ("won", "lost") if metric == "win_rate" else (metric,)
    else:
        stages = pipeline.open_keys
    if group == "account":  # deal_totals is not kept per account: add up the deals themselves
        rows, count, amount, wins = _report_from_deals(turn, metric, closed, stages, span, owner)
    else:
        rows, count, amount, wins = _report_from_totals(turn, metric, closed, stages, span, owner, group)
    text = say(
        "report",
        headline=_headline(metric, int(count), Decimal(amount), int(wins)),
        span=_span_text(span, today),
        owner=say("report_owner", owner=owner.name) if owner else "",
    )
    table = chart = None
    if rows:
        table, chart = _group_table(group, rows, metric, len(rows[0]) - 3, pipeline, text)
    if metric == "forecast":  # what is won already is no longer in the forecast: say it beside it
        _rows, won, won_amount, _wins = _report_from_totals(turn, "won", True, ("won",), span, owner, None)
        text += " " + say("report_forecast_won", count=won, amount=money(won_amount))
    return Reply(text, table=table, chart=chart)


Report = tuple[list[Any], int, Decimal, int]  # grouped rows (keys..., count, amount, wins) and totals


def _report_from_totals(
    turn: Turn,
    metric: str,
    closed: bool,
    stages: tuple[str, ...],
    span: tuple[date, date] | None,
    owner: Any,
    group: str | None,
) -> Report:
    """The figures from deal_totals: one row per stage, owner and day instead of one per deal."""
    query, k = _totals_statement(metric == "forecast", closed, group, span is not None, owner is not None)
    scale = 10_000 if metric == "forecast" else 100  # cents x probability in percent, or cents
    values = _bound(stages, span, owner)
    if not k:
        n, total, wins = turn.session.execute(query, values).one()
        return [], int(n), Decimal(total) / scale, int(wins)
    rows = [
        (*r[:k], int(r[k]), Decimal(r[k + 1]) / scale, int(r[k + 2]))
        for r in turn.session.execute(query, values)
    ]
    return (
        rows,
        sum(r[k] for r in rows),
        sum((r[k + 1] for r in rows), Decimal(0)),
        sum(r[k + 2] for r in rows),
    )


def _bound(stages: tuple[str, ...], span: tuple[date, date] | None, owner: Any) -> dict[str, Any]:
    """The values a statement built once per shape is run with."""
    values: dict[str, Any] = {"stages": list(stages)}
    if span is not None:
        values["start"], values["end"] = span
    if owner is not None:
        values["owner"] = owner.id
    return values


@cache
def _totals_statement(
    forecast: bool, closed: bool, group: str | None, spanned: bool, owned: bool
) -> tuple[Select[Any], int]:
    """The deal_totals statement of one shape (what is summed, grouped and filtered) and its number of
    group keys, built once: building and keying a statement costs more than running it on deal_totals.
    Its values are bound when it runs (`_bound`)."""
    date_column = DealTotal.closed_on if closed else DealTotal.close_date
    query: Select[Any] = (
        select().select_from(DealTotal).where(DealTotal.stage.in_(bindparam("stages", expanding=True)))
    )
    if group == "owner":
        query = query.outerjoin(User, DealTotal.owner_id == User.id)
    if spanned:
        query = query.where(date_column >= bindparam("start"), date_column <= bindparam("end"))
    if owned:
        query = query.where(DealTotal.owner_id == bindparam("owner"))
    count = func.coalesce(func.sum(DealTotal.deals), 0)
    cents = DealTotal.weighted_cents if forecast else DealTotal.amount_cents
    columns: list[SQLColumnExpression[Any]] = [count, func.coalesce(func.sum(cents), 0)]
    columns.append(func.coalesce(func.sum(case((DealTotal.stage == "won", DealTotal.deals), else_=0)), 0))
    keys: list[SQLColumnExpression[Any]]
    if group == "month":
        keys = [extract("year", date_column), extract("month", date_column)]
    elif group == "owner":
        keys = [User.name]
    elif group == "stage":
        keys = [DealTotal.stage]
    else:
        keys = []
    if not keys:
        return query.add_columns(*columns), 0
    # a row whose deals all moved on stays behind with zero deals: it is no group
    return query.add_columns(*keys, *columns).group_by(*keys).having(func.sum(DealTotal.deals) > 0), len(keys)


def _report_from_deals(
    turn: Turn,
    metric: str,
    closed: bool,
    stages: tuple[str, ...],
    span: tuple[date, date] | None,
    owner: Any,
) -> Report:
    """The figures by account, added up from the deals."""
    query: Select[Any] = select().select_from(Deal).where(Deal.deleted_at.is_(None))
    query = query.join(Account, Deal.account_id == Account.id).where(Deal.stage.in_(stages))
    if span:
        date_column = Deal.closed_on if closed else Deal.close_date
        query = query.where(date_column >= span[0], date_column <= span[1])
    if owner is not None:
        query = query.where(Deal.owner_id == owner.id)
    value = func.sum(Deal.amount * Deal.probability) / 100 if metric == "forecast" else func.sum(Deal.amount)
    won = func.sum(case((Deal.stage == "won", 1), else_=0))
    columns: list[SQLColumnExpression[Any]] = [func.count(), func.coalesce(value, 0), func.coalesce(won, 0)]
    rows = turn.session.execute(query.add_columns(Account.name, *columns).group_by(Account.name)).all()
    count, amount, wins = (sum(r[1 + i] or 0 for r in rows) for i in range(3))
    return list(rows), int(count), Decimal(amount), int(wins)


def _headline(metric: str, count: int, amount: Decimal, wins: int) -> str:
    if metric == "forecast":
        return say("report_forecast", count=count, amount=money(amount))
    if metric == "won":
        return say("report_won", count=count, amount=money(amount))
    if metric == "lost":
        return say("report_lost", count=count, amount=money(amount))
    if metric == "win_rate":
        rate = wins / count if count else 0.0
        return say("report_win_rate", rate=percent(rate), wins=wins, count=count)
    if metric == "count":
        return say("report_count", count=count, amount=money(amount))
    return say("report_pipeline", count=count, amount=money(amount))


def _group_table(
    group: str | None, rows: list[Any], metric: str, nkeys: int, pipeline: Any, title: str
) -> tuple[Table, Chart]:
    """The groups as a table (name, deals, figure) and as a bar chart of the same figure."""
    label = {"stage": "Stage", "owner": "Owner", "month": "Month", "account": "Account"}[group or "stage"]
    out = []
    for row in rows:
        keys, (count, amount, wins) = row[:nkeys], row[nkeys:]
        if group == "month":
            name = datetime(int(keys[0]), int(keys[1]), 1).strftime("%b %Y") if keys[0] else "no date"
        elif group == "stage":
            name = pipeline.stage(keys[0]).label
        else:
            name = keys[0] or say("nobody")
        rate = wins / count if count else 0.0
        figure = percent(rate) if metric == "win_rate" else money(Decimal(amount))
        value = rate * 100 if metric == "win_rate" else float(amount)
        out.append((name, str(count), figure, Decimal(amount), value))
    if group == "stage":
        order = {s.label: i for i, s in enumerate(pipeline.stages)}
        out.sort(key=lambda r: order.get(r[0], 99))
    elif group != "month":
        out.sort(key=lambda r: -r[3])
    table = Table(
        (label, "Deals", "Win rate" if metric == "win_rate" else "Amount"),
        tuple(r[:3] for r in out),
        (False, True, True),
    )
    chart = Chart(title, tuple(r[0] for r in out), tuple(r[4] for r in out), tuple(r[2] for r in out))
    return table, chart
