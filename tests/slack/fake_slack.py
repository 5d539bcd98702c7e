"""A stand-in for Slack on 127.0.0.1: the Web API methods the app calls, response URLs, and signed requests
to the app's HTTP endpoint, so the real slack-bolt and slack_sdk code runs end to end in tests.

The fake records every call (method, arguments, token) and answers like Slack does, including
`{"ok": false, "error": ...}` for unknown users and methods. It keeps the messages the app posts, with
their metadata, per conversation (a post to a user id lands in the app's DM with them, "D" + the id),
and serves them back newest first through conversations.history, as Slack does.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import math
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection
from websockets.sync.server import serve as websocket_serve

BOT_USER = "UCRMBOT"
BOT_ID = "BCRMBOT"
TEAM = "T0NORTHWIND"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a test secret, known to nobody else
BOT_TOKEN = "xoxb-test-0000-crm-assistant"


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> users.info "user"
    fail: dict[str, str] = field(default_factory=dict)  # method -> error it answers with
    rate_limit: dict[str, int] = field(default_factory=dict)  # method -> how many more calls get HTTP 429
    calls: list[Call] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)  # file contents uploaded, in order
    socket: FakeSocketMode | None = None  # Socket Mode's WebSocket end, when a test opens one
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # conversation -> its posts
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept-alive connections, as Slack's servers keep them
            disable_nagle_algorithm = True  # headers and body are two writes: not held for a delayed ACK

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.startswith("/upload/"):  # a file's bytes, as files.uploadV2 sends them
                    fake.uploads.append(raw)
                    body = ""
                else:
                    body = raw.decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(body or "{}")
                else:
                    args = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or args.get("token")
                method = self.path.strip("/").removeprefix("api/")
                if fake.rate_limited(method):
                    self.send_response(429)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = fake.answer(method, args, token)
                data = json.dumps(answer).encode() if isinstance(answer, dict) else answer.encode()
                self.send_response(200)
                self.send_header(
                    "Content-Type", "application/json" if isinstance(answer, dict) else "text/plain"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # serve_forever looks for shutdown() between polls: every 50 ms, not the default 0.5 s a test
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def connections(self) -> int:
        return int(self._server.connections)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/respond/{name}"

    # --- Slack's answers ------------------------------------------------------------------------------

    def rate_limited(self, method: str) -> bool:
        with self._changed:
            if self.rate_limit.get(method, 0) <= 0:
                return False
            self.rate_limit[method] -= 1
            self.calls.append(Call(f"429 {method}", {}, None, time.monotonic()))
            return True

    def answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any] | str:
        with self._changed:
            self.calls.append(Call(method, args, token, time.monotonic()))
            self._changed.notify_all()
        if method in self.fail:
            return {"ok": False, "error": self.fail[method]}
        if method.startswith(("respond/", "upload/")):
            return "ok"
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "apps.connections.open":
            if self.socket is None or not (token or "").startswith("xapp-"):
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": self.socket.url}
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "team": "Northwind"}
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(args.get("users") or "")
            if not users or "," in users:
                return {"ok": False, "error": "users_list_not_supplied"}
            return {"ok": True, "channel": {"id": dm_of(users)}}
        if method in ("conversations.history", "conversations.replies"):
            return self.read_history(
                args, thread=args.get("ts") if method == "conversations.replies" else None
            )
        if method in ("chat.postMessage", "chat.update"):
            return self.keep(method, args)
        return {"ok": False, "error": "unknown_method"}

    def keep(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """A post stored in its conversation, or an update of one; its ts a time, as Slack's are."""
        channel = dm_of(str(args.get("channel") or ""))
        metadata = args.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        with self._changed:
            kept = self.history.setdefault(channel, [])
            if method == "chat.update":
                ts = str(args.get("ts"))
                for message in kept:
                    if message["ts"] == ts:
                        message["text"] = args.get("text")
            else:
                ts = f"{int(time.time())}.{next(self._ts):06d}"
                message = {"type": "message", "ts": ts, "bot_id": BOT_ID, "text": args.get("text")}
                if metadata:
                    message["metadata"] = metadata
                if args.get("thread_ts"):
                    message["thread_ts"] = str(args["thread_ts"])
                kept.append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}

    def read_history(self, args: dict[str, Any], thread: str | None = None) -> dict[str, Any]:
        """conversations.history: newest first, from `oldest` on, `limit` a page, a cursor for the next;
        metadata only with include_all_metadata. A thread's replies are not in it, as in Slack: they are
        read with conversations.replies (`thread`: its ts), oldest first."""
        channel = str(args.get("channel") or "")
        if not channel.startswith(("D", "C", "G")):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("true", "1")
        with self._changed:
            kept = self.history.get(channel, [])
            if thread is None:
                posts = [m for m in reversed(kept) if m.get("thread_ts", m["ts"]) == m["ts"]]
            else:
                posts = [m for m in kept if m.get("thread_ts") == thread or m["ts"] == thread]
            found = [dict(m) for m in posts if float(m["ts"]) > oldest]
        page = found[start : start + limit]
        if not with_metadata:
            for message in page:
                message.pop("metadata", None)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    # --- what the app did -----------------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Every message the app sent: chat.postMessage and response-URL posts, in order."""
        with self._changed:
            return [
                c.args
                for c in self.calls
                if c.method == "chat.postMessage" or c.method.startswith("respond/")
            ]

    def wait(self, ready: Callable[[], bool], timeout: float = 15.0) -> bool:
        """Waits until `ready()` holds (checked whenever a call arrives); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def wait_posts(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        self.wait(lambda: len(self._posts_unlocked()) >= count, timeout)
        return self.posts()

    def _posts_unlocked(self) -> list[dict[str, Any]]:
        return [
            c.args for c in self.calls if c.method == "chat.postMessage" or c.method.startswith("respond/")
        ]


class _Server(ThreadingHTTPServer):
    connections = 0  # accepted so far (one thread accepts): kept-alive calls share one

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-request (the fault tests' kill -9) is no error of the fake's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def dm_of(channel: str) -> str:
    """Where a post to `channel` lands: the app's DM with a user, else the channel itself."""
    return f"D{channel}" if channel.startswith(("U", "W")) else channel


def posted_keys(fake: FakeSlack) -> list[str]:
    """The outbox keys of every post the app made, one per chat.postMessage carrying one."""
    keys = []
    for call in fake.called("chat.postMessage"):
        metadata = call.args.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        if metadata:
            keys.append(str(metadata["event_payload"]["key"]))
    return keys


def slack_user(user_id: str, email: str | None, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": user_id,
        "name": name.split()[0].lower(),
        "real_name": name,
        "profile": {"email": email, "real_name": name},
        **extra,
    }


# --- requests as Slack signs and sends them ---------------------------------------------------------------


def signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    seconds: float


def post(
    url: str,
    body: str,
    content_type: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Answer:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(body, stamp, secret),
            **(headers or {}),
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.read().decode(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), time.monotonic() - started)


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0CRM",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def dm(user: str, text: str, ts: str, channel: str = "D0DM") -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text, "ts": ts}


def mention(
    user: str, text: str, ts: str, channel: str = "C0SALES", thread_ts: str | None = None
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_body(user: str, text: str, response_url: str, trigger: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "unused",
            "team_id": TEAM,
            "channel_id": "C0SALES",
            "user_id": user,
            "command": "/crm",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger,
            "api_app_id": "A0CRM",
        }
    )


def button_body(
    user: str, message: dict[str, Any], button: dict[str, Any], block_id: str, response_url: str
) -> str:
    """A block_actions payload for pressing `button` (an element the app sent) on `message`."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "A0CRM",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"]},
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "channel": {"id": message["channel"]},
        "message": {
            "ts": message["ts"],
            "text": message.get("text", ""),
            "blocks": message.get("blocks", []),
        },
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block_id,
                "text": button["text"],
                "value": button["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


# --- Socket Mode: Slack's end of the WebSocket ----------------------------------------------------------

ACK_SECONDS = 3.0  # Slack sends an envelope again when it saw no acknowledgement within 3 s
RETRIES = 3  # and gives up on it after three retries


@dataclass(frozen=True)
class Delivery:
    """One envelope sent on one connection (numbered from 1 in the order they opened)."""

    envelope_id: str
    connection: int
    attempt: int  # 0, then Slack's retry_attempt
    reason: str  # Slack's retry_reason: "timeout" (no ack in time), "connection_failed" (closed first)


@dataclass
class _Envelope:
    body: dict[str, Any]
    sent: bool = False
    on: ServerConnection | None = None  # the connection it was last sent on
    due: float = 0.0  # when it is sent (again) unless acknowledged by then; inf: waits for a connection


class FakeSocketMode:
    """Slack's side of Socket Mode: says hello on each of an app's connections, spreads envelopes over
    the open ones in turn, and collects the app's acks. Like Slack, it sends an envelope again, to
    another open connection when there is one, with retry_attempt and retry_reason set, when it saw no
    ack within `ack_seconds` or the connection closed first; with no connection open it waits for one."""

    def __init__(self, ack_seconds: float = ACK_SECONDS) -> None:
        self.ack_seconds = ack_seconds
        self.acks: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.opened = 0  # connections ever opened
        self._live: dict[ServerConnection, int] = {}  # open connection -> its number
        self._unacked: dict[str, _Envelope] = {}
        self._turn = itertools.count()
        self._closed = False
        self._changed = threading.Condition()
        self._server = websocket_serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        threading.Thread(target=self._resend_due, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test"

    @property
    def connections(self) -> list[int]:
        """The open connections' numbers."""
        with self._changed:
            return sorted(self._live.values())

    @property
    def unacked(self) -> list[str]:
        """The envelopes Slack sends (again) until they are acknowledged."""
        with self._changed:
            return list(self._unacked)

    def _session(self, connection: ServerConnection) -> None:
        with self._changed:
            self.opened += 1
            number = self.opened
            hello = {
                "type": "hello",
                "num_connections": len(self._live) + 1,
                "connection_info": {"app_id": "A0CRM"},
            }
        connection.send(json.dumps(hello))
        with self._changed:
            self._live[connection] = number
            for envelope in self._unacked.values():
                if envelope.due == math.inf:
                    envelope.due = 0.0
            self._changed.notify_all()
        try:
            for frame in connection:
                data = json.loads(frame)
                with self._changed:
                    self.acks[data["envelope_id"]] = data
                    self._unacked.pop(data["envelope_id"], None)
                    self._changed.notify_all()
        except ConnectionClosed:  # the app's process was killed: no closing handshake
            pass
        finally:
            with self._changed:
                del self._live[connection]
                for envelope in self._unacked.values():
                    if envelope.on is connection:
                        envelope.due = 0.0
                self._changed.notify_all()

    def wait_connected(self, count: int = 1, timeout: float = 15.0) -> bool:
        """Waits until `count` connections are open."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._live) >= count, timeout)

    def push(self, kind: str, payload: dict[str, Any], envelope_id: str, retry: int = 0) -> None:
        """Sends an envelope on the next open connection in turn (`retry`: as Slack's retry number)."""
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry,
            "retry_reason": "timeout" if retry else "",
        }
        with self._changed:
            self._unacked[envelope_id] = _Envelope(envelope)
        self._send(envelope_id)

    def _send(self, envelope_id: str) -> None:
        with self._changed:
            envelope = self._unacked.get(envelope_id)
            if envelope is None:  # acknowledged meanwhile
                return
            live = [c for c in self._live if c is not envelope.on] or list(self._live)
            if not live:
                envelope.due = math.inf
                return
            body = envelope.body
            if envelope.sent:
                if body["retry_attempt"] >= RETRIES:
                    del self._unacked[envelope_id]
                    return
                body["retry_attempt"] += 1
                body["retry_reason"] = "timeout" if envelope.on in self._live else "connection_failed"
            connection = live[next(self._turn) % len(live)]
            envelope.sent, envelope.on = True, connection
            envelope.due = time.monotonic() + self.ack_seconds
            self.deliveries.append(
                Delivery(envelope_id, self._live[connection], body["retry_attempt"], body["retry_reason"])
            )
            frame = json.dumps(body)
            self._changed.notify_all()
        with contextlib.suppress(ConnectionClosed):  # its session sees the close and sends it again
            connection.send(frame)

    def _resend_due(self) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                now = time.monotonic()
                due = [i for i, e in self._unacked.items() if e.due <= now]
                if not due:
                    soonest = min((e.due for e in self._unacked.values()), default=math.inf)
                    self._changed.wait(None if soonest == math.inf else soonest - now)
                    continue
            for envelope_id in due:
                self._send(envelope_id)

    def wait_ack(self, envelope_id: str, timeout: float = 15.0) -> dict[str, Any] | None:
        with self._changed:
            self._changed.wait_for(lambda: envelope_id in self.acks, timeout)
            return self.acks.get(envelope_id)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
