"""`crm doctor`'s web-chat line: the settings `crm serve --web` reads, and whether they are sane for a
public site. The web chat calls no platform, so nothing goes over the network."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from adapters.web.settings import WebSettings, WebSettingsError
from assistant.health import Check, Status

NAME = "web"
SETTINGS = ("CRM_WEB_SECRET", "CRM_WEB_ORIGINS")
LOCAL = ("localhost", "127.0.0.1", "::1")


def check(env: Mapping[str, str] = os.environ) -> Check:
    if not any(env.get(name, "").strip() for name in SETTINGS):
        return Check(NAME, Status.SKIP, "not configured")
    try:
        settings = WebSettings.from_env(env)
    except WebSettingsError as error:
        # its messages name the settings, never the secret's value
        return Check(NAME, Status.FAIL, f"the settings cannot be used: {error}", "README: Web chat")
    origins = ", ".join(sorted(settings.origins))
    plain = sorted(
        o for o in settings.origins if o.startswith("http://") and urlsplit(o).hostname not in LOCAL
    )
    if plain:
        return Check(
            NAME,
            Status.WARN,
            f"{', '.join(plain)} is plain http: visitors' signed ids would cross the network in clear",
            "serve the site over https and list its https:// origin in CRM_WEB_ORIGINS",
        )
    return Check(NAME, Status.OK, f"port {settings.port}, for {origins}")
