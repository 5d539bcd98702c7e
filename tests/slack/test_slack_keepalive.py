"""The Web API client keeps its connection to Slack open between calls, and gets over one that closed."""

from __future__ import annotations

import socket
import threading

import pytest
from fake_slack import FakeSlack
from slack_sdk.errors import SlackApiError
from slack_world import BOT_TOKEN, settings_for

from adapters.slack.app import web_client
from adapters.slack.keepalive import KeepAliveWebClient


def test_calls_from_one_thread_share_one_connection(fake: FakeSlack) -> None:
    client = web_client(settings_for(fake))
    assert client.auth_test()["ok"]
    for n in range(5):
        client.chat_postMessage(channel="C1", text=f"reply {n}")
    assert [c.args["text"] for c in fake.called("chat.postMessage")] == [f"reply {n}" for n in range(5)]
    assert fake.connections == 1


def test_each_thread_has_its_own_connection(fake: FakeSlack) -> None:
    client = web_client(settings_for(fake))

    def post(n: int) -> None:
        for m in range(3):
            client.chat_postMessage(channel="C1", text=f"{n}.{m}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.called("chat.postMessage")) == 9
    assert fake.connections == 3


def test_a_rate_limited_call_is_sent_again_after_the_wait_on_the_same_connection(fake: FakeSlack) -> None:
    fake.rate_limit["chat.postMessage"] = 1
    client = web_client(settings_for(fake))
    assert client.chat_postMessage(channel="C1", text="hello")["ok"]
    assert [c.method for c in fake.calls] == ["429 chat.postMessage", "chat.postMessage"]
    assert fake.connections == 1


def test_an_error_slack_answers_is_raised_as_with_the_stock_client(fake: FakeSlack) -> None:
    fake.fail["chat.postMessage"] = "channel_not_found"
    client = web_client(settings_for(fake))
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C404", text="hello")
    assert raised.value.response["error"] == "channel_not_found"


class ClosingServer:
    """An HTTP server that answers each connection's first request with keep-alive and then closes the
    connection, as a server whose idle timeout passed does: the client must notice and open another."""

    ANSWER = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b'Connection: keep-alive\r\nContent-Length: 11\r\n\r\n{"ok":true}'
    )

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.answered = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                while len(body) < length:
                    body += connection.recv(65536)
                connection.sendall(self.ANSWER)
            self.answered.set()  # closed: the client's next call finds it so

    def close(self) -> None:
        self.listener.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_call() -> None:
    server = ClosingServer()
    try:
        client = KeepAliveWebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{server.port}/api/")
        client.retry_handlers.clear()  # no second try to hide a call sent into the closed connection
        for _ in range(3):
            assert client.api_call("auth.test")["ok"]
            assert server.answered.wait(5)
            server.answered.clear()
        assert server.connections == 3
    finally:
        server.close()


def test_an_unreachable_slack_raises_and_a_later_call_connects_once_it_is_back() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    client = KeepAliveWebClient(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{port}/api/", timeout=2)
    client.retry_handlers.clear()  # the stock client's connection-error retry would try once more
    with pytest.raises(ConnectionRefusedError):
        client.api_call("auth.test")
    server = ClosingServer(port)
    try:
        assert client.api_call("auth.test")["ok"]
    finally:
        server.close()
