"""The benchmark's fixed mix: 23 kinds of turns, each with its text, the intent it should get and the
SQL twin that asks its question, if it is a read."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.bench.sql_twins import (
    SqlTwin,
    sql_account_contacts,
    sql_account_summary,
    sql_closing_quarter_over,
    sql_colleague_open_deals,
    sql_contact_email,
    sql_forecast_quarter,
    sql_my_open_deals,
    sql_overdue_tasks,
    sql_pipeline_by_rep,
    sql_pipeline_by_stage,
    sql_stale_deals,
    sql_tasks_today,
    sql_top_deals_month,
    sql_win_rate_year,
    sql_won_last_quarter,
)


@dataclass(frozen=True)
class Kind:
    """One kind of turn: its text (with {names} from the cast), the intent it should get, its SQL twin."""

    key: str
    text: str
    intent: str
    sql: SqlTwin | None = None
    answers_choice: bool = False  # sent only when the turn before asked "which one?"


MIX: tuple[Kind, ...] = (
    Kind("greet", "hi", "greet"),
    Kind("help", "help", "help"),
    Kind("top_deals_month", "top deals this month", "query_deals", sql_top_deals_month),
    Kind(
        "closing_quarter_over_50k",
        "deals closing this quarter over 50k",
        "query_deals",
        sql_closing_quarter_over,
    ),
    Kind("colleague_open_deals", "{colleague_first}'s open deals", "query_deals", sql_colleague_open_deals),
    Kind("my_open_deals", "my open deals", "query_deals", sql_my_open_deals),
    Kind("pipeline_by_stage", "pipeline by stage", "pipeline_report", sql_pipeline_by_stage),
    Kind("pipeline_by_rep", "pipeline by rep", "pipeline_report", sql_pipeline_by_rep),
    Kind("forecast_quarter", "forecast this quarter", "pipeline_report", sql_forecast_quarter),
    Kind("win_rate_year", "win rate this year", "pipeline_report", sql_win_rate_year),
    Kind("won_last_quarter", "how much did we close last quarter", "pipeline_report", sql_won_last_quarter),
    Kind("stale_deals", "deals with no activity in two weeks", "query_deals", sql_stale_deals),
    Kind("account_summary", "tell me about {account}", "account_summary", sql_account_summary),
    Kind("account_contacts", "who's our contact at {account}", "find_contact", sql_account_contacts),
    Kind("contact_email", "what's {contact}'s email", "find_contact", sql_contact_email),
    Kind("tasks_today", "what's on my plate today", "list_tasks", sql_tasks_today),
    Kind("overdue_tasks", "overdue follow-ups", "list_tasks", sql_overdue_tasks),
    Kind("log_call", "log a call with {account} about pricing", "log_activity"),
    Kind("undo", "undo", "undo"),
    Kind("create_reminder", "remind me to call {contact} tomorrow at 10", "create_task"),
    Kind("undo", "undo", "undo"),
    Kind("move_stage", "move {move_account} to negotiation", "update_deal"),
    # "which deal do you mean?" is asked unless the conversation already points at one of the account's
    # deals (as it does when a small store gives a persona the same account again)
    Kind("choose_deal", "1", "update_deal", answers_choice=True),
    Kind("undo", "undo", "undo"),
    Kind("out_of_scope", "what's the weather", "out_of_scope"),
)
