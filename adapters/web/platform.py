"""The web chat as a channel `crm serve --web` runs (adapters/platforms.py)."""

from __future__ import annotations

from adapters.platforms import PlatformError
from adapters.web.server import WebServer
from adapters.web.settings import WebSettings, WebSettingsError
from assistant.channels import Registry
from assistant.engine import Assistant
from assistant.runtime import Runtime


def start(runtime: Runtime, channels: Registry) -> WebServer:
    """Visitors are customers, not users the outbox addresses, so no channel is registered: staff
    answers reach them through `Assistant.news`, pushed while they are connected."""
    try:
        settings = WebSettings.from_env()
    except WebSettingsError as error:
        raise PlatformError(f"the web chat is not configured: {error}", status=2) from error
    try:
        server = WebServer(Assistant(runtime), settings).start()
    except OSError as error:
        raise PlatformError(f"cannot listen on port {settings.port}: {error.strerror}") from error
    origins = ", ".join(sorted(settings.origins))
    print(f"Web chat: port {server.port}, the widget at /widget.js, for {origins}.")
    return server
