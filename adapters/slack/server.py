"""Running the Slack app: Socket Mode (no public URL: a laptop, a server behind a firewall) or an HTTP
endpoint for production behind a load balancer (waitress, a multi-threaded WSGI server).

The HTTP app answers `GET /healthz` for the load balancer and everything Slack sends on `settings.path`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from adapters.processes import listening_socket
from adapters.slack.app import SlackBot
from adapters.slack.settings import SlackSettings

HTTP_THREADS = 16  # requests at once; each only verifies, acknowledges and hands the turn over
CONNECTIONS = 1000  # open connections before new ones wait in the backlog (waitress's default is 100)
QUEUE_WARNING_SECONDS = 60.0


class _OncePer(logging.Filter):
    """waitress warns "Task queue depth is N" for every request that waits for a thread: a burst of 200
    events wrote 200 lines. One such line a minute still tells the operator the threads are all busy."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self._last = -seconds

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True


logging.getLogger("waitress.queue").addFilter(_OncePer(QUEUE_WARNING_SECONDS))


def wsgi_app(bot: SlackBot, settings: SlackSettings) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(bot.app, path=settings.path)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return app


class HttpServer:
    """The HTTP mode server, started on a thread and closed from another (tests, `crm serve`)."""

    def __init__(
        self, bot: SlackBot, settings: SlackSettings, host: str = "0.0.0.0", port: int | None = None
    ):
        port = settings.port if port is None else port
        self._bot = bot
        self._server: Any = create_server(
            wsgi_app(bot, settings),
            sockets=[listening_socket(host, port)],  # shared with sibling processes (--processes N)
            threads=HTTP_THREADS,
            connection_limit=CONNECTIONS,
            backlog=CONNECTIONS,
            ident="crm-assistant",
        )
        self.port: int = self._server.effective_port
        self._thread = threading.Thread(target=self._run, name="slack-http", daemon=True)

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # closed while waiting in select(): the normal way out
            self._server.run()

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """No new connection taken (requests under way are answered), then the bot's turns finished."""
        if self._thread.is_alive():
            # closed in the loop's own thread, which the trigger wakes at once: closed from here, the
            # sockets would leave the loop only when its poll next timed out, up to a second later
            self._server.trigger.pull_trigger(self._server.close)
        else:
            self._server.close()
        self._thread.join(timeout=5)
        self._bot.close()


class SocketMode:
    """Socket Mode: a WebSocket the app opens to Slack, so nothing needs to reach this machine."""

    def __init__(self, bot: SlackBot, settings: SlackSettings) -> None:
        self._bot = bot
        self._handler = SocketModeHandler(bot.app, settings.app_token, concurrency=HTTP_THREADS)

    def start(self) -> SocketMode:
        self._handler.connect()
        return self

    def close(self) -> None:
        self._handler.close()
        self._bot.close()


def start(bot: SlackBot, settings: SlackSettings, host: str = "0.0.0.0") -> HttpServer | SocketMode:
    """Socket Mode when an app token is configured, else the HTTP endpoint; raises if it cannot start
    (a port in use, an app token Slack refuses)."""
    if settings.socket_mode:
        return SocketMode(bot, settings).start()
    return HttpServer(bot, settings, host=host).start()
