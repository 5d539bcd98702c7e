"""`crm import`: a CSV file goes in whole or not at all.

Every row is read and checked first (columns, values, references to accounts, contacts, deals and users
in the store or earlier in the same file); only a file without a single problem is written, in bulk, in
the caller's transaction. Users, accounts, contacts, deals and articles are matched by their natural key
and updated; activities and tasks are always added.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.coltypes import utcnow
from storage.csv_formats import FORMATS, IMPORT_KINDS
from storage.models import (
    ACTIVITY_TYPES,
    TASK_STATUSES,
    Account,
    Activity,
    AuditEntry,
    ChannelIdentity,
    Contact,
    Deal,
    KbArticle,
    KbQuestion,
    Task,
    User,
    name_key,
)
from storage.pipeline import default_pipeline
from storage.roles import ROLES
from storage.values import ValueProblem, parse_amount, parse_date, parse_datetime

MAX_REPORTED = 20
BATCH = 5_000  # rows per executemany and per progress report

Progress = Callable[[str, int, int], None]  # (phase, rows done, rows in the phase)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class CsvImportError(Exception):
    """The file was refused; nothing was written. `errors` names each bad line and column."""

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__("; ".join(map(str, errors)))


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0


@dataclass
class Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str | None:
        value = self.cells.get(column, "").strip()
        return value or None


@dataclass
class _Checker:
    """Collects every problem of a file so the user can fix them all in one go."""

    errors: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(line, column, message))

    def check(self, row: Row, column: str, parse: Callable[[str], Any]) -> Any:
        text = row.get(column)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueProblem as problem:
            self.add(row.line, column, str(problem))
            return None

    def raise_if_any(self) -> None:
        if self.total:
            raise CsvImportError(self.errors, self.total)


def column_name(header: str) -> str:
    """A header cell as the format names it: case, surrounding blanks, a byte-order mark and the spaces or
    hyphens of "Close Date" / "close-date" do not matter."""
    return re.sub(r"[\s-]+", "_", header.lstrip("\ufeff").strip()).casefold()


def read_rows(kind: str, stream: TextIO) -> list[Row]:
    """The data rows with their line numbers; a header that does not fit the format is refused."""
    fmt = FORMATS[kind]
    reader = csv.reader(stream, strict=True)  # a quote left open is an error, not the rest of the file
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError([RowError(1, None, "the file is empty; a header row is required")]) from None
    except csv.Error as problem:
        raise CsvImportError([RowError(1, None, f"not a readable CSV file ({problem})")]) from None
    header = [column_name(h) for h in header]
    checker = _Checker()
    for column in header:
        if column not in fmt.columns:
            checker.add(1, column, f"unknown column; the columns of {kind} are {', '.join(fmt.columns)}")
    for column in sorted(fmt.required - set(header)):
        checker.add(1, column, "required column is missing")
    if len(set(header)) != len(header):
        checker.add(1, None, "a column appears twice")
    checker.raise_if_any()

    rows: list[Row] = []
    line = reader.line_num
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                checker.add(start, None, f"has {len(record)} cells, the header has {len(header)}")
                continue
            if any("\x00" in cell for cell in record):
                checker.add(start, None, "holds a NUL character; is this a UTF-8 text file?")
                continue
            rows.append(Row(start, dict(zip(header, record, strict=True))))
    except csv.Error as problem:
        hint = "; a quote opened here is never closed" if "end of data" in str(problem) else ""
        checker.add(line + 1, None, f"not readable as CSV ({problem}){hint}")
    checker.raise_if_any()
    return rows


def undecodable(path: Path) -> CsvImportError | None:
    """The refusal of a file that is not UTF-8 text, naming the first bad line and its byte in the file;
    None when every line decodes. Read line by line (no UTF-8 character holds a newline byte), so a
    decoding error points at the file, not at the chunk a text stream happened to be decoding."""
    offset = 0
    with path.open("rb") as raw:
        for line, data in enumerate(raw, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as problem:
                message = (
                    f"not UTF-8 text ({problem.reason} at byte {offset + problem.start}); "
                    "save the file as UTF-8 (CSV UTF-8 in a spreadsheet) and import it again"
                )
                return CsvImportError([RowError(line, None, message)])
            offset += len(data)
    return None


def import_csv(
    session: Session,
    kind: str,
    stream: TextIO,
    tz: ZoneInfo,
    now: datetime | None = None,
    user_id: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Checks the whole file, then writes it into `session`'s transaction (the caller commits)."""
    if kind not in IMPORT_KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(IMPORT_KINDS)}")
    rows = read_rows(kind, stream)
    fmt = FORMATS[kind]
    required = tuple(c for c in fmt.columns if c in fmt.required)
    importer = _Importer(session, tz, now or utcnow(), progress or _unreported, required)
    result: ImportResult = getattr(importer, kind)(rows)
    session.add(
        AuditEntry(
            user_id=user_id,
            channel="import",
            change_group=f"import-{utcnow().isoformat()}",
            action="import",
            entity=kind,
            after={"created": result.created, "updated": result.updated},
        )
    )
    session.flush()
    return result


def import_text(session: Session, kind: str, text: str, tz: ZoneInfo) -> ImportResult:
    return import_csv(session, kind, io.StringIO(text), tz)


def _unreported(phase: str, done: int, total: int) -> None:
    """The progress callback of an import nobody watches."""


class _Importer:
    def __init__(
        self,
        session: Session,
        tz: ZoneInfo,
        now: datetime,
        progress: Progress,
        required: tuple[str, ...] = (),
    ) -> None:
        self.session = session
        self.tz = tz
        self.now = now
        self.checker = _Checker()
        self.progress = progress
        self.required = required

    def _checking(self, rows: list[Row]) -> Iterator[Row]:
        """The rows, one by one, reporting the checking phase once per batch; a required column left
        blank is a problem of its row (each kind's own checks then pass over the blank)."""
        for done, row in enumerate(rows):
            if done % BATCH == 0:
                self.progress("checking", done, len(rows))
            for column in self.required:
                if row.get(column) is None:
                    self.checker.add(row.line, column, "a required value is blank")
            yield row
        self.progress("checking", len(rows), len(rows))

    # lookups of what the store already holds -------------------------------------------------------

    def _users_by_email(self) -> dict[str, int]:
        rows = self.session.execute(select(User.email, User.id).where(User.deleted_at.is_(None)))
        return {email.casefold(): uid for email, uid in rows}

    def _accounts_by_key(self) -> dict[str, tuple[int, int | None]]:
        rows = self.session.execute(
            select(Account.name_key, Account.id, Account.owner_id).where(Account.deleted_at.is_(None))
        )
        return {key: (aid, owner) for key, aid, owner in rows}

    def _user(self, row: Row, column: str, users: dict[str, int]) -> int | None:
        email = row.get(column)
        if email is None:
            return None
        uid = users.get(email.casefold())
        if uid is None:
            self.checker.add(
                row.line, column, f"no user with e-mail {email!r}; add them first (crm users add)"
            )
        return uid

    def _account(
        self, row: Row, accounts: dict[str, tuple[int, int | None]]
    ) -> tuple[int, int | None] | None:
        name = row.get("account")
        if name is None:
            return None
        found = accounts.get(name_key(name))
        if found is None:
            self.checker.add(row.line, "account", f"no account named {name!r}; import it first")
        return found

    def _write(self, model: type, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
        """Bulk writes through Core executemany (one batched statement, not one per row).

        Each dict of `changed` carries the record's `id`; all dicts of a list share their keys.
        """
        table: Table = model.__table__  # type: ignore[attr-defined]
        total = len(new) + len(changed)
        self.progress("writing", 0, total)
        for start in range(0, len(new), BATCH):
            self.session.execute(insert(table), new[start : start + BATCH])
            self.progress("writing", min(start + BATCH, len(new)), total)
        if changed:
            keys = [key for key in changed[0] if key != "id"]
            statement = (
                update(table)
                .where(table.c.id == bindparam("p_id"))
                .values({key: bindparam(f"p_{key}") for key in keys})
            )
            if "version" in table.c:  # a record changed by an import is a new version of it too
                statement = statement.values(version=table.c.version + 1)
            for start in range(0, len(changed), BATCH):
                batch = changed[start : start + BATCH]
                self.session.execute(statement, [{f"p_{k}": v for k, v in row.items()} for row in batch])
                self.progress("writing", len(new) + min(start + BATCH, len(changed)), total)

    # one method per kind ---------------------------------------------------------------------------

    def users(self, rows: list[Row]) -> ImportResult:
        existing = self._users_by_email()
        identities = {
            (channel, ext): uid
            for channel, ext, uid in self.session.execute(
                select(ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.user_id)
            )
        }
        seen: dict[str, int] = {}
        parsed: list[tuple[Row, dict[str, Any], list[tuple[str, str]]]] = []
        for row in self._checking(rows):
            email = row.get("email") or ""
            if email and "@" not in email:
                self.checker.add(row.line, "email", f"{email!r} is not an e-mail address")
            elif email and email.casefold() in seen:
                self.checker.add(
                    row.line, "email", f"{email!r} already appears on line {seen[email.casefold()]}"
                )
            seen[email.casefold()] = row.line
            role = (row.get("role") or "").lower()
            if role and role not in ROLES:
                self.checker.add(row.line, "role", f"{role!r} is not a role; one of {', '.join(ROLES)}")
            wanted = [(ch, ext) for ch in ("slack", "telegram") if (ext := row.get(f"{ch}_id"))]
            for channel, ext in wanted:
                owner = identities.get((channel, ext))
                if owner is not None and owner != existing.get(email.casefold()):
                    self.checker.add(row.line, f"{channel}_id", f"{ext!r} already belongs to another user")
            parsed.append((row, {"name": row.get("name"), "email": email, "role": role}, wanted))
        self.checker.raise_if_any()

        result = ImportResult("users")
        now = utcnow()
        self.progress("writing", 0, len(parsed))
        for _row, values, wanted in parsed:
            uid = existing.get(values["email"].casefold())
            if uid is None:
                user = User(**values, created_at=now, updated_at=now)
                self.session.add(user)
                self.session.flush()
                uid = user.id
                result.created += 1
            else:
                self.session.execute(update(User).where(User.id == uid).values(**values, updated_at=now))
                result.updated += 1
            for channel, ext in wanted:
                if identities.get((channel, ext)) != uid:
                    self.session.execute(
                        delete(ChannelIdentity).where(
                            ChannelIdentity.user_id == uid, ChannelIdentity.channel == channel
                        )
                    )
                    self.session.add(ChannelIdentity(channel=channel, external_id=ext, user_id=uid))
        self.session.flush()
        self.progress("writing", len(parsed), len(parsed))
        return result

    def accounts(self, rows: list[Row]) -> ImportResult:
        users = self._users_by_email()
        existing = self._accounts_by_key()
        seen: dict[str, int] = {}
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        now = utcnow()
        for row in self._checking(rows):
            name = row.get("name") or ""
            key = name_key(name)
            if name and key in seen:
                self.checker.add(row.line, "name", f"{name!r} already appears on line {seen[key]}")
            seen[key] = row.line
            values = {
                "name": name,
                "name_key": key,
                "domain": row.get("domain"),
                "industry": row.get("industry"),
                "owner_id": self._user(row, "owner_email", users),
                "updated_at": now,
            }
            if key in existing:
                changed.append({"id": existing[key][0], **values})
            else:
                new.append({**values, "created_at": now})
        self.checker.raise_if_any()
        self._write(Account, new, changed)
        return ImportResult("accounts", len(new), len(changed))

    def contacts(self, rows: list[Row]) -> ImportResult:
        accounts = self._accounts_by_key()
        by_email: dict[str, int] = {}
        by_name: dict[tuple[str, int | None], int] = {}
        for cid, key, email, account_id in self.session.execute(
            select(Contact.id, Contact.name_key, Contact.email, Contact.account_id).where(
                Contact.deleted_at.is_(None)
            )
        ):
            by_name[(key, account_id)] = cid
            if email:
                by_email[email.casefold()] = cid
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        seen: dict[tuple[str, int | None], int] = {}
        now = utcnow()
        for row in self._checking(rows):
            name = row.get("name") or ""
            account = self._account(row, accounts)
            account_id = account[0] if account else None
            email = row.get("email")
            if email and "@" not in email:
                self.checker.add(row.line, "email", f"{email!r} is not an e-mail address")
            contact_key = (name_key(name), account_id)
            if name and contact_key in seen:
                self.checker.add(
                    row.line, "name", f"{name!r} at this account already appears on line {seen[contact_key]}"
                )
            seen[contact_key] = row.line
            values = {
                "name": name,
                "name_key": contact_key[0],
                "email": email,
                "phone": row.get("phone"),
                "title": row.get("title"),
                "account_id": account_id,
                "updated_at": now,
            }
            known = (by_email.get(email.casefold()) if email else None) or by_name.get(contact_key)
            if known is None:
                new.append({**values, "created_at": now})
            else:
                changed.append({"id": known, **values})
        self.checker.raise_if_any()
        self._write(Contact, new, changed)
        return ImportResult("contacts", len(new), len(changed))

    def deals(self, rows: list[Row]) -> ImportResult:
        users = self._users_by_email()
        accounts = self._accounts_by_key()
        pipeline = default_pipeline()
        existing = {
            (account_id, key): did
            for did, key, account_id in self.session.execute(
                select(Deal.id, Deal.name_key, Deal.account_id).where(Deal.deleted_at.is_(None))
            )
        }
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        seen: dict[tuple[int, str], int] = {}
        now = utcnow()
        check = self.checker.check
        for row in self._checking(rows):
            name = row.get("name") or ""
            account = self._account(row, accounts)
            stage = (row.get("stage") or pipeline.stages[0].key).lower()
            if stage not in pipeline.keys:
                self.checker.add(
                    row.line, "stage", f"{stage!r} is not a stage; one of {', '.join(pipeline.keys)}"
                )
                stage = pipeline.stages[0].key
            amount = check(row, "amount", parse_amount)
            close_date = check(row, "close_date", parse_date)
            created = check(row, "created_at", lambda t: parse_datetime(t, self.tz)[0])
            owner = self._user(row, "owner_email", users)
            if account is None:
                continue
            key = (account[0], name_key(name))
            if name and key in seen:
                self.checker.add(
                    row.line, "name", f"{name!r} at this account already appears on line {seen[key]}"
                )
            seen[key] = row.line
            values = {
                "name": name,
                "name_key": key[1],
                "account_id": account[0],
                "amount": amount,
                "currency": pipeline.currency,
                "stage": stage,
                "probability": pipeline.stage(stage).probability,
                "close_date": close_date,
                "closed_on": None if pipeline.stage(stage).open else (close_date or self.now.date()),
                "owner_id": owner if owner is not None else account[1],
                "updated_at": now,
            }
            if key in existing:
                changed.append({"id": existing[key], **values})  # an existing deal keeps its created_at
            else:
                new.append({**values, "created_at": created or now})
        self.checker.raise_if_any()
        self._write(Deal, new, changed)
        return ImportResult("deals", len(new), len(changed))

    def _contact_and_deal(
        self, row: Row, account_id: int | None, contacts: dict[Any, list[int]], deals: dict[Any, int]
    ) -> tuple[int | None, int | None]:
        contact_id = deal_id = None
        if (contact := row.get("contact")) is not None:
            ids = contacts.get((name_key(contact), account_id)) or contacts.get(name_key(contact)) or []
            if len(ids) == 1:
                contact_id = ids[0]
            else:
                problem = "no contact named" if not ids else "more than one contact named"
                self.checker.add(row.line, "contact", f"{problem} {contact!r}")
        if (deal := row.get("deal")) is not None:
            deal_id = deals.get((name_key(deal), account_id))
            if deal_id is None:
                self.checker.add(row.line, "deal", f"no deal named {deal!r} at this account")
        return contact_id, deal_id

    def _contact_and_deal_maps(self) -> tuple[dict[Any, list[int]], dict[Any, int]]:
        contacts: dict[Any, list[int]] = {}
        for cid, key, account_id in self.session.execute(
            select(Contact.id, Contact.name_key, Contact.account_id).where(Contact.deleted_at.is_(None))
        ):
            contacts.setdefault((key, account_id), []).append(cid)
            contacts.setdefault(key, []).append(cid)
        deals = {
            (key, account_id): did
            for did, key, account_id in self.session.execute(
                select(Deal.id, Deal.name_key, Deal.account_id).where(Deal.deleted_at.is_(None))
            )
        }
        return contacts, deals

    def activities(self, rows: list[Row]) -> ImportResult:
        users = self._users_by_email()
        accounts = self._accounts_by_key()
        contacts, deals = self._contact_and_deal_maps()
        new: list[dict[str, Any]] = []
        now = utcnow()
        for row in self._checking(rows):
            kind = (row.get("type") or "").lower()
            if kind and kind not in ACTIVITY_TYPES:
                self.checker.add(
                    row.line, "type", f"{kind!r} is not an activity type; one of {', '.join(ACTIVITY_TYPES)}"
                )
            account = self._account(row, accounts)
            account_id = account[0] if account else None
            contact_id, deal_id = self._contact_and_deal(row, account_id, contacts, deals)
            occurred = self.checker.check(row, "occurred_at", lambda t: parse_datetime(t, self.tz)[0])
            new.append(
                {
                    "type": kind,
                    "account_id": account_id,
                    "contact_id": contact_id,
                    "deal_id": deal_id,
                    "user_id": self._user(row, "user_email", users),
                    "channel": "import",
                    "occurred_at": occurred or self.now,
                    "notes": row.get("notes"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self.checker.raise_if_any()
        self._write(Activity, new, [])
        self._touch_last_activity(new)
        return ImportResult("activities", len(new))

    def _touch_last_activity(self, activities: Iterable[dict[str, Any]]) -> None:
        """Keeps accounts' and deals' last_activity_at (indexed for "no activity in 14 days") current."""
        latest: dict[tuple[type[Account] | type[Deal], int], datetime] = {}
        for activity in activities:
            for model, key in ((Account, "account_id"), (Deal, "deal_id")):
                if activity[key] is not None:
                    slot = (model, activity[key])
                    latest[slot] = max(latest.get(slot, activity["occurred_at"]), activity["occurred_at"])
        for (model, record_id), at in latest.items():
            column = model.last_activity_at
            self.session.execute(
                update(model)
                .where(model.id == record_id)
                .where((column.is_(None)) | (column < at))
                .values(last_activity_at=at)
            )

    def tasks(self, rows: list[Row]) -> ImportResult:
        users = self._users_by_email()
        accounts = self._accounts_by_key()
        contacts, deals = self._contact_and_deal_maps()
        new: list[dict[str, Any]] = []
        now = utcnow()
        for row in self._checking(rows):
            status = (row.get("status") or "open").lower()
            if status not in TASK_STATUSES:
                self.checker.add(
                    row.line, "status", f"{status!r} is not a task status; one of {', '.join(TASK_STATUSES)}"
                )
            account = self._account(row, accounts)
            account_id = account[0] if account else None
            contact_id, deal_id = self._contact_and_deal(row, account_id, contacts, deals)
            due = self.checker.check(row, "due", lambda t: parse_datetime(t, self.tz))
            new.append(
                {
                    "title": row.get("title"),
                    "due_at": due[0] if due else None,
                    "due_has_time": due[1] if due else False,
                    "status": status,
                    "assignee_id": self._user(row, "assignee_email", users),
                    "account_id": account_id,
                    "contact_id": contact_id,
                    "deal_id": deal_id,
                    "completed_at": now if status == "done" else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self.checker.raise_if_any()
        self._write(Task, new, [])
        return ImportResult("tasks", len(new))

    def kb(self, rows: list[Row]) -> ImportResult:
        articles: dict[str, dict[str, Any]] = {}
        for row in self._checking(rows):
            key = row.get("article") or ""
            if not key:
                continue
            article = articles.setdefault(
                key, {"line": row.line, "title": None, "answer": None, "questions": []}
            )
            for column in ("title", "answer"):
                value = row.get(column)
                if value is not None:
                    if article[column] not in (None, value):
                        self.checker.add(
                            row.line, column, f"differs from the {column} given earlier for {key!r}"
                        )
                    article[column] = value
            article["questions"].append(row.get("question"))
        existing = {a.key: a for a in self.session.scalars(select(KbArticle))}
        for key, article in articles.items():
            if article["answer"] is None and key not in existing:
                self.checker.add(article["line"], "answer", f"article {key!r} has no answer on any row")
        self.checker.raise_if_any()
        result = ImportResult("kb")
        now = utcnow()
        self.progress("writing", 0, len(articles))
        for key, article in articles.items():
            record = existing.get(key)
            if record is None:
                record = KbArticle(
                    key=key, title=article["title"] or key, answer=article["answer"], created_at=now
                )
                self.session.add(record)
                result.created += 1
            else:
                record.title = article["title"] or record.title
                record.answer = article["answer"] or record.answer
                record.deleted_at = None
                self.session.query(KbQuestion).filter_by(article_id=record.id).delete()
                result.updated += 1
            record.questions = [KbQuestion(question=q) for q in article["questions"]]
        self.session.flush()
        self.progress("writing", len(articles), len(articles))
        return result
