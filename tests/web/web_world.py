"""A web chat server on 127.0.0.1 over a seeded demo store, and a visitor that talks to it over real HTTP
and a real WebSocket (no test client in between)."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.client import ClientConnection, connect

from adapters.web.server import WebServer
from adapters.web.settings import WebSettings
from assistant.engine import Assistant
from assistant.messages import Message

ORIGIN = "http://shop.test:8000"
SECRET = "test-secret-0123456789-abcdefghij"
STAFF = "maria.gonzalez@northwind.example"


def settings(**changes: Any) -> WebSettings:
    values: dict[str, Any] = {
        "secret": SECRET,
        "origins": frozenset({ORIGIN}),
        "port": 0,
        "host": "127.0.0.1",
        "news_every": 0.2,
    }
    values.update(changes)
    return WebSettings(**values)


class Refused(Exception):
    """The WebSocket did not accept the visitor's token."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str


@dataclass
class Visitor:
    url: str
    origin: str | None = ORIGIN
    token: str | None = None
    sent: int = field(default=0)
    connection: http.client.HTTPConnection | None = None  # a kept-alive connection to use, else a new one

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Response:
        data = json.dumps(body).encode() if body is not None else None
        if self.connection is not None:
            return self._over(self.connection, method, path, data)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.origin is not None:
            request.add_header("Origin", self.origin)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, raw = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read().decode()
        return Response(status, headers, json.loads(raw) if raw.strip().startswith("{") else {}, raw)

    def _over(
        self, connection: http.client.HTTPConnection, method: str, path: str, data: bytes | None
    ) -> Response:
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.origin is not None:
            headers["Origin"] = self.origin
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read().decode()
        body = json.loads(raw) if raw.strip().startswith("{") else {}
        return Response(response.status, dict(response.headers), body, raw)

    def ask(self, text: str) -> str:
        """The bot's text in answer to a line."""
        replies = self.say(text).body["replies"]
        return str(replies[0]["text"]) if replies else ""

    def start(self) -> Response:
        response = self.request("POST", "/api/session", {"token": self.token} if self.token else {})
        if response.status == 200:
            self.token = response.body["token"]
        return response

    def say(self, text: str) -> Response:
        self.sent += 1
        return self.request(
            "POST", "/api/message", {"token": self.token, "text": text, "id": f"t{self.sent}"}
        )

    @contextmanager
    def socket(self) -> Iterator[ClientConnection]:
        url = self.url.replace("http://", "ws://") + "/ws"
        origin: Any = self.origin
        with connect(url, origin=origin, open_timeout=10) as socket:
            socket.send(json.dumps({"type": "hello", "token": self.token}))
            ready = json.loads(socket.recv(timeout=10))
            if ready != {"type": "ready"}:
                raise Refused(ready)
            yield socket

    def poll(self) -> Response:
        return self.request("POST", "/api/poll", {"token": self.token})


def ticket_number(text: str) -> str:
    found = re.search(r"#(\d+)", text)
    assert found, text
    return found[1]


def open_ticket(say: Callable[[str], str], problem: str) -> str:
    """Opens a ticket through `say` (a visitor's line to the bot's text), giving an e-mail address if
    asked; the ticket's number."""
    say("I want to open a ticket")
    opened = say(problem)
    if "e-mail" in opened:
        opened = say("visitor@example.com")
    return ticket_number(opened)


def receive(socket: ClientConnection, timeout: float = 15.0) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(socket.recv(timeout=timeout))
    return frame


def staff_says(bot: Assistant, text: str) -> str:
    return bot.handle(Message("terminal", STAFF, text, sender_is_email=True)).plain


@contextmanager
def serving(bot: Assistant, **changes: Any) -> Iterator[WebServer]:
    server = WebServer(bot, settings(**changes)).start()
    try:
        yield server
    finally:
        server.close()
