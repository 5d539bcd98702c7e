"""Visitor identity: a random id and its HMAC-SHA256 under `CRM_WEB_SECRET`, `<id>.<signature>`.

The browser keeps the token (localStorage); the server keeps nothing. A token whose signature does not
match was not issued here and is refused, so nobody can speak as another visitor by guessing an id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_ID = re.compile(r"v-[A-Za-z0-9_-]{16,64}")  # the whole id (fullmatch): no trailing newline


class Signer:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def __repr__(self) -> str:
        return "Signer(<secret>)"

    def _sign(self, visitor: str) -> str:
        return hmac.new(self._key, visitor.encode("ascii"), hashlib.sha256).hexdigest()

    def issue(self) -> tuple[str, str]:
        """A new visitor: (visitor id, token)."""
        visitor = "v-" + secrets.token_urlsafe(18)
        return visitor, f"{visitor}.{self._sign(visitor)}"

    def visitor(self, token: object) -> str | None:
        """The visitor id a token carries, or None when it is malformed or not signed with our secret."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        visitor, _, signature = token.partition(".")
        if not _ID.fullmatch(visitor):
            return None
        # compared as bytes: compare_digest raises on a str with non-ASCII characters
        if not hmac.compare_digest(signature.encode("utf-8"), self._sign(visitor).encode("ascii")):
            return None
        return visitor
