"""A stand-in for the Telegram Bot API on 127.0.0.1, so the real python-telegram-bot code (telegram.Bot,
telegram.ext.Application and its long-polling Updater) runs end to end in tests.

The fake keeps an update queue with Telegram's getUpdates semantics (offset confirms, negative offset
forgets, timeout long-polls), answers the send/edit methods with valid Message objects, serves files
by getFile and /file/bot<token>/<path>, and records every call (method, decoded params, uploads).

PTB 22 sends parameters as form data: urlencoded when there is no file (string values as they are,
everything else JSON-encoded), multipart/form-data when it uploads one. The fake also takes JSON bodies
and GET query strings, as Telegram does.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

TOKEN = "123456789:AAFakeTokenForCrmAssistantTests00"
BOT_USERNAME = "crm_test_bot"
BOT_NAME = "CRM Test Bot"

# Parameters Telegram reads as plain strings: never JSON-decoded, so a text of "42" stays "42".
STRING_PARAMS = {
    "text",
    "caption",
    "callback_query_id",
    "url",
    "secret_token",
    "action",
    "file_id",
    "parse_mode",
    "inline_message_id",
    "business_connection_id",
    "ip_address",
    "language_code",
    "title",
    "file_name",
}
MESSAGE_LIMIT = 4096  # characters of a message's text, after its markup is parsed
SEND_METHODS = ("sendMessage", "sendVoice", "sendDocument")
METHODS = (
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "sendChatAction",
    "getFile",
    "sendMessage",
    "sendVoice",
    "sendDocument",
    "editMessageReplyMarkup",
    "editMessageText",
    "answerCallbackQuery",
)
_CANONICAL = {name.lower(): name for name in METHODS}  # Telegram's method names are case-insensitive


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Call:
    """One request the bot made; `status` is the HTTP status the fake answered with."""

    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    status: int
    at: float


@dataclass
class _Failure:
    times: int
    status: int
    retry_after: int | None
    description: str | None


class _Markup(HTMLParser):
    """Telegram's HTML parse mode: a few tags, balanced, and only its named entities; the text a
    client shows is what is left."""

    ALLOWED = frozenset(
        [
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ins",
            "s",
            "strike",
            "del",
            "a",
            "code",
            "pre",
            "blockquote",
            "tg-spoiler",
            "span",
            "tg-emoji",
        ]
    )
    ENTITIES: ClassVar[dict[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.shown: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.problem = self.problem or f'unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = self.problem or f'unexpected end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problem = self.problem or "unescaped < or >"
        self.shown.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in self.ENTITIES:
            self.problem = self.problem or f'unsupported entity "&{name};"'
        self.shown.append(self.ENTITIES.get(name, ""))

    def handle_charref(self, name: str) -> None:
        self.shown.append(chr(int(name[1:], 16) if name.lower().startswith("x") else int(name)))


def _parsed(text: str, parse_mode: object) -> str:
    """The message's text as Telegram keeps it: HTML checked and taken out (400 as Telegram answers
    markup it cannot parse)."""
    if str(parse_mode or "").upper() != "HTML":
        return text
    markup = _Markup()
    markup.feed(text)
    markup.close()
    if markup.problem is None and markup.open:
        markup.problem = f'can\'t find end tag corresponding to start tag "{markup.open[-1]}"'
    if markup.problem is not None:
        raise _TelegramError(400, f"Bad Request: can't parse entities: {markup.problem}")
    return "".join(markup.shown)


class _TelegramError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _decode_value(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_form(pairs: dict[str, str]) -> dict[str, Any]:
    return {name: _decode_value(name, value) for name, value in pairs.items()}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = Upload(filename, part.get_content_type(), data)
        else:
            params[name] = data.decode(part.get_content_charset() or "utf-8")
    return _decode_form(params), files


@dataclass
class FakeBotApi:
    """The Bot API for one bot token. Use as a context manager, or call start() and close()."""

    token: str = TOKEN
    username: str = BOT_USERNAME
    first_name: str = BOT_NAME
    calls_log: list[Call] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)  # the last setMyCommands
    webhook_url: str = ""
    webhook_secret: str | None = None
    _queue: list[dict[str, Any]] = field(default_factory=list)  # pending updates, oldest first
    _confirmed: list[int] = field(default_factory=list)
    _dropped: list[int] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    _messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # every message seen
    _sent_keys: list[tuple[int, int]] = field(default_factory=list)  # (chat_id, message_id) the bot sent
    _files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id -> (file_path, bytes)
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _poll_generation: int = 0
    _closed: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Serves on a free port of 127.0.0.1 from a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as PTB's httpx pool expects
            disable_nagle_algorithm = True  # no 40 ms wait for a delayed ACK between headers and body

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, body: bytes) -> None:
                status, content_type, data = fake._handle(
                    self.path, self.headers.get("Content-Type", ""), body
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up on a long poll
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        """Stops serving and releases any getUpdates still waiting."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """For telegram.Bot(base_url=...) and ApplicationBuilder().base_url(...): PTB appends the token."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":")[0])

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    # --- failures for retry tests --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Makes the next `times` calls of `method` fail: 429 with retry_after, or any other status."""
        with self._changed:
            self._failures.setdefault(method, []).append(
                _Failure(times, status, retry_after if status == 429 else None, description)
            )

    def _take_failure(self, method: str) -> _TelegramError | None:
        queued = self._failures.get(method)
        if not queued:
            return None
        failure = queued[0]
        failure.times -= 1
        if failure.times <= 0:
            queued.pop(0)
        if failure.status == 429:
            after = failure.retry_after or 1
            return _TelegramError(
                429,
                failure.description or f"Too Many Requests: retry after {after}",
                {"retry_after": after},
            )
        descriptions = {500: "Internal Server Error", 502: "Bad Gateway", 400: "Bad Request"}
        return _TelegramError(
            failure.status, failure.description or descriptions.get(failure.status, "Error")
        )

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handle(self, path: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        url = urllib.parse.urlsplit(path)
        where = urllib.parse.unquote(url.path)  # PTB's download quotes the token's colon
        prefix = f"/file/bot{self.token}/"
        if where.startswith("/file/bot"):
            if not where.startswith(prefix):
                return self._error(_TelegramError(401, "Unauthorized"))
            return self._download(where.removeprefix(prefix))
        if not where.startswith("/bot"):
            return self._error(_TelegramError(404, "Not Found"))
        token, _, method = where.removeprefix("/bot").partition("/")
        if token != self.token:
            return self._error(_TelegramError(401, "Unauthorized"))
        params: dict[str, Any] = _decode_form(dict(urllib.parse.parse_qsl(url.query)))
        files: dict[str, Upload] = {}
        if content_type.startswith("multipart/form-data"):
            form, files = _parse_multipart(content_type, body)
            params.update(form)
        elif content_type.startswith("application/json"):
            params.update(json.loads(body or b"{}"))
        elif body:
            params.update(_decode_form(dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))))
        name = _CANONICAL.get(method.lower(), method)
        try:
            with self._changed:
                failure = self._take_failure(name)
            if failure is not None:
                raise failure
            result = self._answer(name, params, files)
        except _TelegramError as error:
            self._record(name, params, files, error.status)
            return self._error(error)
        self._record(name, params, files, 200)
        return 200, "application/json", json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _error(error: _TelegramError) -> tuple[int, str, bytes]:
        answer: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            answer["parameters"] = error.parameters
        return error.status, "application/json", json.dumps(answer).encode()

    def _download(self, file_path: str) -> tuple[int, str, bytes]:
        with self._changed:
            found = [data for path, data in self._files.values() if path == file_path]
        if not found:
            return self._error(_TelegramError(404, "Not Found"))
        return 200, "application/octet-stream", found[0]

    def _record(self, method: str, params: dict[str, Any], files: dict[str, Upload], status: int) -> None:
        with self._changed:
            self.calls_log.append(Call(method, params, files, status, time.monotonic()))
            self._changed.notify_all()

    # --- the methods ---------------------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        if method == "getUpdates":
            return self._get_updates(params)
        with self._changed:
            if method == "getMe":
                return {
                    **self.bot_user,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            if method == "deleteWebhook":
                self.webhook_url, self.webhook_secret = "", None
                if params.get("drop_pending_updates"):
                    self._drop(len(self._queue))
                return True
            if method == "setWebhook":
                self.webhook_url = str(params.get("url") or "")
                self.webhook_secret = params.get("secret_token")
                if params.get("drop_pending_updates"):
                    self._drop(len(self._queue))
                return True
            if method == "getWebhookInfo":
                return {
                    "url": self.webhook_url,
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._queue),
                }
            if method == "setMyCommands":
                self.commands = list(params.get("commands") or [])
                return True
            if method == "getMyCommands":
                return self.commands
            if method in ("sendChatAction", "answerCallbackQuery"):
                return True
            if method == "getFile":
                file_id = str(params.get("file_id"))
                if file_id not in self._files:
                    raise _TelegramError(400, "Bad Request: invalid file_id")
                path, data = self._files[file_id]
                return {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_size": len(data),
                    "file_path": path,
                }
            if method in SEND_METHODS:
                return self._send(method, params, files)
            if method in ("editMessageText", "editMessageReplyMarkup"):
                return self._edit(method, params)
        raise _TelegramError(404, "Not Found")

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._changed:
            if self.webhook_url:
                raise _TelegramError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()  # an older long poll answers 409, as Telegram's does
            if offset > 0:
                while self._queue and self._queue[0]["update_id"] < offset:
                    self._confirmed.append(self._queue.pop(0)["update_id"])
            elif offset < 0:
                self._drop(max(0, len(self._queue) + offset))
            while True:
                ready = [u for u in self._queue if u["update_id"] >= offset][:limit]
                if ready or self._closed:
                    return ready
                if generation != self._poll_generation:
                    raise _TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one "
                        "bot instance is running",
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)

    def _drop(self, count: int) -> None:
        for update in self._queue[:count]:
            self._dropped.append(update["update_id"])
        del self._queue[:count]

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
            raise _TelegramError(400, "Bad Request: chat not found")
        chat_id = int(chat_id)
        if chat_id not in self._chats:
            if chat_id > 0:
                self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            else:
                self._chats[chat_id] = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        return self._chats[chat_id]

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _register(self, data: bytes, folder: str, suffix: str) -> str:
        number = next(self._file_ids)
        file_id = f"FILE{number:06d}"
        self._files[file_id] = (f"{folder}/file_{number}.{suffix}", data)
        return file_id

    def _send(self, method: str, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if method == "sendMessage":
            text = params.get("text")
            if not text:
                raise _TelegramError(400, "Bad Request: message text is empty")
            message["text"] = _parsed(str(text), params.get("parse_mode"))
            if len(message["text"]) > MESSAGE_LIMIT:
                raise _TelegramError(400, "Bad Request: message is too long")
            if params.get("entities"):
                message["entities"] = params["entities"]
        else:
            kind = "voice" if method == "sendVoice" else "document"
            message[kind] = self._media(kind, params, files)
            if params.get("caption"):
                message["caption"] = str(params["caption"])
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
            message["reply_markup"] = markup
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        reply_to = reply_to or params.get("reply_to_message_id")
        if reply_to and (chat["id"], int(reply_to)) in self._messages:
            message["reply_to_message"] = self._messages[(chat["id"], int(reply_to))]
        self._messages[(chat["id"], message["message_id"])] = message
        self._sent_keys.append((chat["id"], message["message_id"]))
        return message

    def _media(self, kind: str, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        upload = files.get(kind)
        if upload is None and isinstance(params.get(kind), str) and params[kind].startswith("attach://"):
            upload = files.get(params[kind].removeprefix("attach://"))
        if upload is not None:
            suffix = "oga" if kind == "voice" else (upload.filename or "file.bin").rsplit(".", 1)[-1]
            file_id = self._register(upload.data, f"{kind}s", suffix)
            data, filename, mime = upload.data, upload.filename, upload.content_type
        else:
            file_id = str(params.get(kind))
            if file_id not in self._files:
                raise _TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            data, filename, mime = self._files[file_id][1], None, None
        media: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
        if kind == "voice":
            media["duration"] = int(params.get("duration") or 1)
            media["mime_type"] = "audio/ogg"
        else:
            media["file_name"] = filename or "document"
            media["mime_type"] = mime or "application/octet-stream"
        return media

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        message = self._messages.get(key)
        if message is None:
            raise _TelegramError(400, "Bad Request: message to edit not found")
        edited = dict(message)
        if method == "editMessageText":
            edited["text"] = str(params.get("text") or "")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        else:
            edited.pop("reply_markup", None)
        if {k: v for k, v in edited.items() if k != "edit_date"} == {
            k: v for k, v in message.items() if k != "edit_date"
        }:
            raise _TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        edited["edit_date"] = int(time.time())
        self._messages[key] = edited
        return edited

    # --- what the bot did ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call, or those of one method, in order (failed ones included)."""
        with self._changed:
            return [c for c in self.calls_log if method is None or c.method == method]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful sendMessage/sendVoice/sendDocument calls, in order, optionally for one chat."""
        with self._changed:
            return self._sent_unlocked(chat_id)

    def _sent_unlocked(self, chat_id: int | None) -> list[Call]:
        return [
            c
            for c in self.calls_log
            if c.method in SEND_METHODS
            and c.status == 200
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The text of every sendMessage, in order."""
        return [str(c.params.get("text")) for c in self.sent(chat_id) if c.method == "sendMessage"]

    def wait_for(
        self,
        until: int | Callable[[list[Call]], object],
        timeout: float = 5.0,
        *,
        method: str | None = None,
    ) -> list[Call]:
        """Blocks until `until` holds, and returns the calls it looked at.

        An int waits for that many sent messages (see sent()), or that many calls of `method` when
        given; a predicate gets the list of calls (all, or of `method`) and is re-checked on every call.
        Raises AssertionError listing what was recorded on timeout.
        """

        def current() -> list[Call]:
            if method is not None:
                return [c for c in self.calls_log if c.method == method]
            return self._sent_unlocked(None) if isinstance(until, int) else list(self.calls_log)

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                seen = current()
                if len(seen) >= until if isinstance(until, int) else until(seen):
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    recorded = "\n".join(f"  {c.status} {c.method} {c.params}" for c in self.calls_log)
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {until!r}; recorded:\n{recorded}"
                    )
                self._changed.wait(left)

    def wait_confirmed(self, update_id: int, timeout: float = 5.0) -> None:
        """Blocks until the bot confirmed `update_id` through getUpdates' offset."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while update_id not in self._confirmed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"update {update_id} not confirmed; confirmed: {self._confirmed}")
                self._changed.wait(left)

    def updates_confirmed(self) -> list[int]:
        """update_ids the bot confirmed by calling getUpdates with a higher offset, in order."""
        with self._changed:
            return list(self._confirmed)

    def updates_dropped(self) -> list[int]:
        """update_ids forgotten by a negative offset or drop_pending_updates."""
        with self._changed:
            return list(self._dropped)

    def pending(self) -> list[dict[str, Any]]:
        """Updates still in the queue (not yet confirmed)."""
        with self._changed:
            return list(self._queue)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message as it stands now (after edits), sent by the bot or pushed by a test."""
        with self._changed:
            return self._messages[(chat_id, message_id)]

    def bot_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent, as they stand now (after edits), in order."""
        with self._changed:
            return [self._messages[key] for key in self._sent_keys if chat_id is None or key[0] == chat_id]

    # --- updates, as Telegram would deliver them -----------------------------------------------------

    def register_file(self, data: bytes, folder: str = "documents", suffix: str = "bin") -> str:
        """Makes `data` downloadable by getFile; returns its file_id."""
        with self._changed:
            return self._register(data, folder, suffix)

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queues an update; gives it the next update_id unless it has one. Returns the update_id."""
        with self._changed:
            if "update_id" not in update:
                update = {"update_id": next(self._update_ids), **update}
            self._queue.append(update)
            self._changed.notify_all()
            return int(update["update_id"])

    def push_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        chat_type: str | None = None,
        first_name: str = "Alice",
        username: str | None = "alice",
        reply_to_bot_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> int:
        """Queues a text message from a user; returns its update_id."""
        update = self.text_update(
            chat_id, user_id, text, chat_type, first_name, username, reply_to_bot_message_id, entities
        )
        return self.push_raw(update)

    def push_voice(
        self,
        chat_id: int,
        user_id: int,
        ogg_bytes: bytes,
        duration: int = 1,
        chat_type: str | None = None,
        first_name: str = "Alice",
        username: str | None = "alice",
    ) -> int:
        """Queues a voice message (its file is served by getFile); returns its update_id."""
        return self.push_raw(
            self.voice_update(chat_id, user_id, ogg_bytes, duration, chat_type, first_name, username)
        )

    def push_callback(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        data: str,
        first_name: str = "Alice",
        username: str | None = "alice",
    ) -> int:
        """Queues a button press on a message the bot sent; returns its update_id."""
        return self.push_raw(self.callback_update(chat_id, user_id, message_id, data, first_name, username))

    def text_update(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        chat_type: str | None = None,
        first_name: str = "Alice",
        username: str | None = "alice",
        reply_to_bot_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A text-message update with the next update_id, not queued (for webhook tests)."""
        message = self._user_message(chat_id, user_id, chat_type, first_name, username)
        message["text"] = text
        found = entities if entities is not None else self._entities(text)
        if found:
            message["entities"] = found
        if reply_to_bot_message_id is not None:
            with self._changed:
                replied = self._messages.get((chat_id, reply_to_bot_message_id))
            if replied is None:
                raise ValueError(f"the bot sent no message {reply_to_bot_message_id} in chat {chat_id}")
            message["reply_to_message"] = replied
        return self._update({"message": message})

    def voice_update(
        self,
        chat_id: int,
        user_id: int,
        ogg_bytes: bytes,
        duration: int = 1,
        chat_type: str | None = None,
        first_name: str = "Alice",
        username: str | None = "alice",
    ) -> dict[str, Any]:
        """A voice-message update, not queued; its file is registered for getFile."""
        file_id = self.register_file(ogg_bytes, "voice", "oga")
        message = self._user_message(chat_id, user_id, chat_type, first_name, username)
        message["voice"] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(ogg_bytes),
        }
        return self._update({"message": message})

    def callback_update(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        data: str,
        first_name: str = "Alice",
        username: str | None = "alice",
    ) -> dict[str, Any]:
        """A callback_query update for a bot message, not queued."""
        with self._changed:
            message = self._messages.get((chat_id, message_id))
            number = next(self._callback_ids)
        if message is None:
            raise ValueError(f"the bot sent no message {message_id} in chat {chat_id}")
        query = {
            "id": f"{self.bot_id}{number:08d}",
            "from": self._user(user_id, first_name, username),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self._update({"callback_query": query})

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            return {"update_id": next(self._update_ids), **body}

    @staticmethod
    def _user(user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "en",
        }
        if username:
            user["username"] = username
        return user

    def _user_message(
        self, chat_id: int, user_id: int, chat_type: str | None, first_name: str, username: str | None
    ) -> dict[str, Any]:
        kind = chat_type or ("private" if chat_id > 0 else "group")
        if kind == "private":
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            if chat_id > 0:
                raise ValueError(f"a {kind} chat has a negative id, not {chat_id}")
            chat = {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        with self._changed:
            self._chats[chat_id] = chat
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat_id),
                "from": self._user(user_id, first_name, username),
                "chat": chat,
                "date": int(time.time()),
            }
            self._messages[(chat_id, message["message_id"])] = message
        return message

    def _entities(self, text: str) -> list[dict[str, Any]]:
        """bot_command for a leading "/word", mention for "@<bot username>"; offsets in UTF-16 units."""

        def utf16(s: str) -> int:
            return len(s.encode("utf-16-le")) // 2

        found: list[dict[str, Any]] = []
        command_end = 0
        if text.startswith("/"):
            command_end = len(text.split(maxsplit=1)[0])  # "/start@crm_test_bot" is one bot_command
            found.append({"type": "bot_command", "offset": 0, "length": utf16(text[:command_end])})
        mention = f"@{self.username}"
        start = text.find(mention, command_end)
        while start != -1:
            found.append({"type": "mention", "offset": utf16(text[:start]), "length": utf16(mention)})
            start = text.find(mention, start + len(mention))
        return found


# --- a webhook delivery, as Telegram sends it ---------------------------------------------------------


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str


def post_webhook(
    url: str, update: dict[str, Any], secret: str | None = None, timeout: float = 10
) -> WebhookAnswer:
    """POSTs `update` as JSON to the bot's webhook, with Telegram's secret-token header when given."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return WebhookAnswer(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return WebhookAnswer(error.code, error.read().decode())
