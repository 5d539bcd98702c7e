"""Slack user id -> the e-mail Slack vouches for (users.info), so the assistant can link a Slack account
to the staff member with that e-mail the first time they write; and -> the name a mention stands for.

Looked up once per user and kept for an hour: a turn must not wait on Slack's API every time.
Bots, deleted users and lookups that fail give no e-mail, so the sender stays unknown.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
KEEP_SECONDS = 3600.0
MISS_SECONDS = 60.0  # a failed lookup is retried after a minute, not on every message


@dataclass(frozen=True)
class Person:
    email: str | None
    name: str | None
    timezone: str | None = None  # as set in the person's Slack profile


NOBODY = Person(None, None)


@dataclass
class SlackPeople:
    client: WebClient
    _known: dict[str, tuple[Person, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def email(self, user_id: str) -> str | None:
        return self.person(user_id).email

    def name(self, user_id: str) -> str | None:
        return self.person(user_id).name

    def person(self, user_id: str) -> Person:
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        person = self._lookup(user_id)
        with self._lock:
            self._known[user_id] = (person, now + (KEEP_SECONDS if person.email else MISS_SECONDS))
        return person

    def _lookup(self, user_id: str) -> Person:
        try:
            response = self.client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
            return NOBODY
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or user.get("name")
        if user.get("deleted") or user.get("is_bot"):
            return Person(None, name)
        email = profile.get("email")
        return Person(
            email.strip() if isinstance(email, str) and "@" in email else None, name, user.get("tz")
        )
