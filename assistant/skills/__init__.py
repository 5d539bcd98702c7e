"""One module per group of skills; `SKILLS` maps each staff and customer intent to its skill."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.skills import accounts, activities, contacts, deals, help_desk, pipeline, support, tasks
from assistant.turn import Outcome, Turn

Skill = Callable[[Turn, dict[str, Any]], Outcome]

SKILLS: dict[str, Skill] = {
    "log_activity": activities.log_activity,
    "create_deal": deals.create_deal,
    "update_deal": deals.update_deal,
    "query_deals": pipeline.query_deals,
    "pipeline_report": pipeline.pipeline_report,
    "create_account": accounts.create_account,
    "account_summary": accounts.account_summary,
    "create_contact": contacts.create_contact,
    "update_contact": contacts.update_contact,
    "find_contact": contacts.find_contact,
    "create_task": tasks.create_task,
    "list_tasks": tasks.list_tasks,
    "complete_task": tasks.complete_task,
    "snooze_task": tasks.snooze_task,
    "faq": support.faq,
    "open_ticket": support.open_ticket,
    "ticket_status": support.ticket_status,
    "human_handoff": support.human_handoff,
    "rate_ticket": support.rate_ticket,
    "list_tickets": help_desk.list_tickets,
    "show_ticket": help_desk.show_ticket,
    "reply_ticket": help_desk.reply_ticket,
    "close_ticket": help_desk.close_ticket,
    "assign_ticket": help_desk.assign_ticket,
    "support_report": help_desk.support_report,
}

# Skills that only read and remember what they showed: run without a savepoint, since they have nothing to
# take back (a SAVEPOINT and its RELEASE are two round trips of every question a manager asks).
READS = frozenset({"query_deals", "pipeline_report", "account_summary", "find_contact", "list_tasks"})
