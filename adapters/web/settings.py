"""The web chat's settings, from the environment only. The secret is never printed (kept out of `repr`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_PORT = 8080
MIN_SECRET = 16  # characters: a visitor token is only as strong as the key that signs it
MAX_TEXT = 2000  # characters in one visitor message
RATE_BURST = 8  # messages a visitor may send at once...
RATE_PER_MINUTE = 20  # ...and then this many a minute
NEWS_EVERY = 2.0  # seconds between looks for staff answers to connected visitors


class WebSettingsError(Exception):
    """The environment does not describe a runnable web chat; the message says what to set."""


def origin_of(value: str) -> str | None:
    """`https://Shop.example:443/page` -> `https://shop.example`; None when it is no http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


@dataclass(frozen=True)
class WebSettings:
    secret: str = field(repr=False)
    origins: frozenset[str]
    port: int = DEFAULT_PORT
    host: str = "0.0.0.0"
    max_text: int = MAX_TEXT
    rate_burst: int = RATE_BURST
    rate_per_minute: float = RATE_PER_MINUTE
    news_every: float = NEWS_EVERY

    def allows(self, origin: str | None) -> bool:
        return origin is not None and origin_of(origin) in self.origins

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WebSettings:
        problems = []
        secret = env.get("CRM_WEB_SECRET", "").strip()
        if not secret:
            problems.append(
                "CRM_WEB_SECRET is not set: a long random string that signs visitor ids "
                '(python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        elif len(secret) < MIN_SECRET:
            problems.append(f"CRM_WEB_SECRET is too short: at least {MIN_SECRET} characters")
        port_text = env.get("CRM_WEB_PORT", "").strip() or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            problems.append(f"CRM_WEB_PORT must be a port number, not {port_text!r}")
        origins: set[str] = set()
        for item in env.get("CRM_WEB_ORIGINS", "").split(","):
            if not item.strip():
                continue
            origin = origin_of(item)
            if origin is None:
                problems.append(
                    f"CRM_WEB_ORIGINS: {item.strip()!r} is not an origin like https://www.example.com"
                )
            else:
                origins.add(origin)
        if not origins and not any("CRM_WEB_ORIGINS" in p for p in problems):
            problems.append(
                "CRM_WEB_ORIGINS is not set: the sites allowed to embed the chat, comma-separated "
                "(https://www.example.com,https://shop.example.com)"
            )
        if problems:
            raise WebSettingsError("; ".join(problems))
        return cls(secret=secret, origins=frozenset(origins), port=int(port_text))
