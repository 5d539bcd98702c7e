"""Finding the records a turn talks about: by the parser's canonical names, by context, or by asking."""

from __future__ import annotations

from typing import Any, Literal, overload

from sqlalchemy import bindparam, inspect, select

from assistant.replies import say
from assistant.turn import Ask, Choose, Confirm, Turn
from storage.models import Account, Contact, Deal, User, name_key
from storage.pipeline import default_pipeline


class Missing(Exception):
    """Raised with the Ask/Choose/Reply text that the dialogue must answer with instead."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome


# statements every turn runs, built once (building and keying one costs more than running it)
_ACCOUNT_BY_KEY = select(Account).where(Account.name_key == bindparam("key"), Account.deleted_at.is_(None))
_OPEN_DEALS = (
    select(Deal)
    .where(
        Deal.account_id == bindparam("account"),
        Deal.deleted_at.is_(None),
        Deal.stage.in_(bindparam("stages", expanding=True)),
    )
    .order_by(Deal.close_date)
)


def _ambiguous(value: Any) -> list[str] | None:
    return value.get("ambiguous") if isinstance(value, dict) else None


def account_by_name(turn: Turn, name: str) -> Account | None:
    """A turn looks its account up several times (the dialogue, then the skill's checks): found once, it
    is kept for the turn while it is still in the session under that name and not deleted."""
    key = name_key(name)
    kept = turn.accounts.get(key)
    if kept is not None and inspect(kept).persistent and kept.name_key == key and kept.deleted_at is None:
        return kept
    found = turn.session.scalars(_ACCOUNT_BY_KEY, {"key": key}).first()
    if found is not None:
        turn.accounts[key] = found
    return found


def create_account_if_confirmed(turn: Turn, slots: dict[str, Any]) -> Confirm | None:
    """An account named but not in the store is created only after the user said yes to it."""
    name = slots.get("account")
    if not isinstance(name, str) or account_by_name(turn, name) is not None:
        return None
    if not slots.get("_create"):
        return Confirm(say("confirm_create_account", name=name), "_create")
    assert turn.user is not None
    created = Account(name=name, name_key=name_key(name), owner_id=turn.user.id)
    turn.session.add(created)
    turn.audit.created(created, say("undo_account_created", account=name))
    return None


@overload
def account(turn: Turn, slots: dict[str, Any], slot: str = ..., ask: Literal[True] = ...) -> Account: ...
@overload
def account(turn: Turn, slots: dict[str, Any], slot: str = ..., *, ask: bool) -> Account | None: ...


def account(turn: Turn, slots: dict[str, Any], slot: str = "account", ask: bool = True) -> Account | None:
    """The account named in `slot`, else the one in context, else (if `ask`) a question: never None
    when it may ask."""
    value = slots.get(slot)
    if (options := _ambiguous(value)) is not None:
        raise Missing(Choose(slot, "account", options))
    if isinstance(value, str):
        found = account_by_name(turn, value)
        if found is None:
            raise Missing(say("unknown_account", name=value))
        return found
    if (account_id := turn.context.account_id) is not None:
        found = turn.session.get(Account, account_id)
        if found is not None and found.deleted_at is None:
            return found
    if ask:
        raise Missing(Ask(slot, say("ask_account")))
    return None


def contact(turn: Turn, slots: dict[str, Any], account_hint: Account | None = None) -> Contact | None:
    value = slots.get("contact")
    if (options := _ambiguous(value)) is not None:
        if account_hint is not None:
            at = turn.session.scalars(
                select(Contact.name).where(
                    Contact.account_id == account_hint.id,
                    Contact.name.in_(options),
                    Contact.deleted_at.is_(None),
                )
            ).all()
            if len(at) == 1:
                value = at[0]
            else:
                raise Missing(_choose_contact(turn, options))
        else:
            raise Missing(_choose_contact(turn, options))
    if not isinstance(value, str):
        return None
    query = select(Contact).where(Contact.name_key == name_key(value), Contact.deleted_at.is_(None))
    found = turn.session.scalars(query).all()
    if account_hint is not None and len(found) > 1:
        found = [c for c in found if c.account_id == account_hint.id] or found
    if not found:
        raise Missing(say("unknown_contact", name=value))
    return found[0]


def contact_in_context(turn: Turn) -> Contact | None:
    """The contact the talk is about, if it is one (a turn about another account forgot it)."""
    if (contact_id := turn.context.contact_id) is None:
        return None
    found = turn.session.get(Contact, contact_id)
    return found if found is not None and found.deleted_at is None else None


def _choose_contact(turn: Turn, options: list[str]) -> Choose:
    """Which contact: each shown with the account that tells them apart ("the globex one")."""
    rows = turn.session.execute(
        select(Contact.name, Account.name)
        .outerjoin(Account, Contact.account_id == Account.id)
        .where(Contact.name.in_(options), Contact.deleted_at.is_(None))
    ).all()
    accounts: dict[str, str] = {}
    for name, account_name in rows:
        accounts.setdefault(name, account_name or "")
    return Choose("contact", "contact", options, [accounts.get(o, "") for o in options])


def user(turn: Turn, value: Any, slot: str = "owner") -> User | None:
    """The member of staff `value` names ("me": the speaker); two of that name are asked about, the
    answer filling `slot`."""
    if value is None:
        return None
    if value == "me":
        return turn.user
    if (options := _ambiguous(value)) is not None:
        raise Missing(Choose(slot, "colleague", options))
    found = turn.session.scalars(select(User).where(User.name == value, User.deleted_at.is_(None))).first()
    if found is None:
        raise Missing(say("unknown_user", name=value))
    return found


def open_deals(turn: Turn, account_id: int) -> list[Deal]:
    return list(
        turn.session.scalars(_OPEN_DEALS, {"account": account_id, "stages": default_pipeline().open_keys})
    )


def deal(turn: Turn, slots: dict[str, Any]) -> Deal:
    """The deal named, else the account's only open deal, else the one in context, else a question."""
    if (shown := slots.get("_deal_id")) is not None:  # "the first one" of the list just shown
        found_shown = turn.session.get(Deal, shown)
        if found_shown is not None and found_shown.deleted_at is None:
            return found_shown
    value = slots.get("deal")
    if (options := _ambiguous(value)) is not None:
        raise Missing(Choose("deal", "deal", options))
    if isinstance(value, str):
        found = turn.session.scalars(
            select(Deal).where(Deal.name_key == name_key(value), Deal.deleted_at.is_(None))
        ).all()
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Missing(Choose("deal", "deal", sorted({d.name for d in found})))
    if slots.get("account") is not None:
        acct = account(turn, slots)
        deals = open_deals(turn, acct.id)
        if not deals:
            raise Missing(say("no_open_deals", account=acct.name))
        if len(deals) == 1:
            return deals[0]
        context_deal = turn.context.deal_id
        if context_deal in {d.id for d in deals}:
            return next(d for d in deals if d.id == context_deal)
        raise Missing(Choose("deal", "deal", [d.name for d in deals]))
    if (deal_id := turn.context.deal_id) is not None:
        found_deal = turn.session.get(Deal, deal_id)
        if found_deal is not None and found_deal.deleted_at is None:
            return found_deal
    if (account_id := turn.context.account_id) is not None:
        return deal(turn, {**slots, "account": turn.session.get(Account, account_id).name})  # type: ignore[union-attr]
    raise Missing(Ask("account", say("ask_deal")))
