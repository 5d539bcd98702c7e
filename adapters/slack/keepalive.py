"""slack_sdk's Web API client over kept-alive connections.

The stock `WebClient` opens a new connection for every call through urllib: against slack.com that is a
TCP and a TLS handshake for every reply, reminder and history lookup, several milliseconds of CPU and two
or three round trips each. This client keeps one open HTTP/1.1 connection per thread and host and sends
every call over it, as Slack's servers allow. Everything else (the retry handlers, a 429's Retry-After,
the response as `WebClient` parses it) is slack_sdk's own: only the one method that opens a connection
and reads the answer is replaced, and a proxied client keeps slack_sdk's urllib path.

A connection the server has closed while it sat idle is noticed before it is used (the socket reads as
ready: the server's FIN, or bytes nobody asked for) and replaced, so a call is not sent into a dead
connection; a call that fails on the wire closes its connection and raises as urllib would, and the
next call opens a new one.
"""

from __future__ import annotations

import http.client
import io
import select
import threading
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient


class KeepAliveWebClient(WebClient):
    """A `WebClient` whose calls share kept-alive connections (one per thread and host)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        connection = self._connection(parts.scheme, parts.netloc)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(req.get_method(), path, body=req.data, headers=dict(req.header_items()))
            response = connection.getresponse()
            raw = response.read()
        except BaseException:
            connection.close()  # half a request or half an answer: this connection is done
            raise
        if response.will_close:
            connection.close()
        if response.status >= 400:  # as urllib raises it: the caller's retry handlers read it from here
            raise HTTPError(url, response.status, response.reason, response.msg, io.BytesIO(raw))
        if response.msg.get_content_type() == "application/gzip":  # admin.analytics.getFile
            return {"status": response.status, "headers": response.msg, "body": raw}
        charset = response.msg.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.msg, "body": raw.decode(charset)}

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        """This thread's connection to `netloc`, made when there is none or the last one went stale."""
        connections: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(
            self._local, "connections", None
        )
        if connections is None:
            connections = self._local.connections = {}
        connection = connections.get((scheme, netloc))
        if connection is not None and _stale(connection):
            connection.close()  # reopened by http.client on the next request
        if connection is None:
            if scheme == "https":
                connection = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=self.ssl)
            else:
                connection = http.client.HTTPConnection(netloc, timeout=self.timeout)
            connections[(scheme, netloc)] = connection
        return connection


def _stale(connection: http.client.HTTPConnection) -> bool:
    """An idle connection whose socket is readable: the server closed it (or broke the protocol)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed under us
        return True
    return bool(readable)
