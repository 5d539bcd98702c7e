"""The web chat's server (aiohttp, on its own thread and event loop): the widget's static files, a
WebSocket per open widget, and an HTTP fallback for browsers or proxies where the WebSocket fails.

    GET  /widget.js, /widget.css   the widget, shipped inside this package (no CDN)
    POST /api/session              {token?} -> {token, history, replies}: who the visitor is, what they
                                   said before, and staff answers that arrived while they were away
    GET  /ws                       WebSocket: {"type": "hello", "token"} first (answered "ready"), then
                                   {"type": "message", "text", "id"} in; turn, news, error out
    POST /api/message              {token, text, id} -> a turn: the HTTP fallback of one message
    POST /api/poll                 {token} -> news: staff answers not shown yet (the fallback's push)

Tokens travel in bodies and frames, never in URLs, which proxies log.

Every API call must come from an origin in `CRM_WEB_ORIGINS` (the `Origin` header, which browsers set
and pages cannot forge); allowed origins get CORS headers. Turns run on a thread pool, since
`Assistant.handle` is blocking; staff answers to connected visitors are looked for every two seconds.

Under `crm serve --processes N` each copy runs this server on the shared port and the kernel hands each
connection to any copy, so nothing a visitor relies on lives in one process: the token is checked with
the shared secret, the conversation and the staff answers not yet shown are in the store (each answer is
taken by one process, the one that pushes it to a WebSocket it holds), and so is the rate limit's bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from adapters.processes import listening_socket
from adapters.web.render import WebChannel
from adapters.web.settings import WebSettings
from adapters.web.tokens import Signer
from assistant.engine import Assistant
from assistant.limits import SharedRateLimiter
from assistant.messages import Message, Reply

log = logging.getLogger(__name__)

CHANNEL = "web"
TURN_THREADS = 16
MAX_BODY = 16 * 1024  # bytes in one HTTP request or WebSocket frame
HELLO_SECONDS = 10.0  # for a new WebSocket to say who it is
WATCHER_SECONDS = 5.0  # for the staff answers being pushed when the server stops to be sent
STATIC = {"widget.js": "application/javascript", "widget.css": "text/css"}
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SETTINGS_KEY = web.AppKey("settings", WebSettings)


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    code: str
    text: str
    retry_after: float | None = None

    def body(self, message_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "error", "id": message_id, "code": self.code, "text": self.text}
        if self.retry_after is not None:
            body["retry_after"] = round(self.retry_after, 1)
        return body


BAD_TOKEN = Refusal(403, "bad_token", "This chat session is not valid here; start a new one.")
BAD_ORIGIN = Refusal(403, "bad_origin", "This site is not allowed to use the chat.")


class Chat:
    """What the handlers share: the assistant, the signer, the limits and the connected visitors."""

    def __init__(self, assistant: Assistant, settings: WebSettings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.signer = Signer(settings.secret)
        # in the store: the kernel spreads a visitor's connections over `crm serve --processes N`
        self.limit = SharedRateLimiter(assistant.runtime, settings.rate_burst, settings.rate_per_minute / 60)
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.channel = WebChannel(self.push)
        self.pool = ThreadPoolExecutor(TURN_THREADS, thread_name_prefix="web-turn")
        self.loop: asyncio.AbstractEventLoop | None = None

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, call, *args)

    # the visitor -----------------------------------------------------------------------------------

    def visitor(self, token: object) -> str:
        visitor = self.signer.visitor(token)
        if visitor is None:
            raise BAD_TOKEN
        return visitor

    async def session(self, token: object) -> dict[str, Any]:
        if token:
            visitor = self.visitor(token)
            token_text = str(token)
        else:
            visitor, token_text = self.signer.issue()
        history = await self.run(self.assistant.history, CHANNEL, visitor)
        news = await self.run(self.assistant.news, CHANNEL, visitor)
        return {
            "type": "session",
            "token": token_text,
            "history": [{"who": who, "text": text} for who, text in history],
            "replies": self.channel.frames(news, "staff"),
        }

    async def turn(self, visitor: str, data: Any) -> dict[str, Any]:
        """One visitor message to its reply; a Refusal when it is empty, too long or too fast."""
        message_id = data.get("id") if isinstance(data, dict) else None
        message_id = message_id if isinstance(message_id, str) and 0 < len(message_id) <= 64 else None
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise Refusal(400, "empty", "Type a message first.")
        limit = self.settings.max_text
        if len(text) > limit:
            raise Refusal(413, "too_long", f"That message is too long: {limit:,} characters at most.")
        wait = await self.run(self.limit.wait, CHANNEL, visitor)
        if wait > 0:
            raise Refusal(
                429,
                "rate_limited",
                f"You are sending messages very fast; please wait {max(1, round(wait))} s and try again.",
                wait,
            )
        message = Message(
            CHANNEL,
            visitor,
            text.strip(),
            message_id=f"web:{visitor}:{message_id}" if message_id else None,
            customer=True,
        )
        reply = await self.run(self.assistant.handle, message)
        return {"type": "turn", "id": message_id, "replies": self.channel.frames([reply])}

    async def news(self, visitor: str) -> list[dict[str, Any]]:
        replies: list[Reply] = await self.run(self.assistant.news, CHANNEL, visitor)
        return self.channel.frames(replies, "staff")

    # live pushes -----------------------------------------------------------------------------------

    def push(self, visitor: str, frame: dict[str, Any]) -> bool:
        """Sends a frame to every open widget of a visitor, from any thread; False when none is open."""
        sockets = self.sockets.get(visitor)
        if not sockets or self.loop is None:
            return False
        for socket in list(sockets):
            asyncio.run_coroutine_threadsafe(socket.send_json(frame), self.loop)
        return True

    def news_from_elsewhere(self, channel: str, visitor: str, replies: list[Reply]) -> None:
        """Staff answers another process took for a visitor (`Assistant.listen_for_news`), pushed to the
        visitor's widgets open here; from the listener's thread."""
        frames = self.channel.frames(replies, "staff") if channel == CHANNEL else []
        if frames:
            self.push(visitor, {"type": "news", "replies": frames})

    async def watch_news(self, stop: asyncio.Event) -> None:
        """Pushes staff answers to the visitors with a WebSocket open here, every `news_every` seconds.
        Taking a visitor's answers marks them seen, so it stops between visitors, never after a take
        and before the send: answers taken while the server stops still reach the socket."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.news_every)
            for visitor in list(self.sockets):
                if stop.is_set():
                    return
                if all(socket.closed for socket in self.sockets.get(visitor, ())):
                    continue  # gone: its answers wait for its next visit
                try:
                    replies = await self.news(visitor)
                except Exception:
                    log.exception("looking for staff answers failed")
                    continue
                for socket in list(self.sockets.get(visitor, ())):
                    if replies:
                        with contextlib.suppress(ConnectionError, RuntimeError):
                            await socket.send_json({"type": "news", "replies": replies})


CHAT_KEY = web.AppKey("chat", Chat)
NOT_UNDERSTOOD = Refusal(400, "bad_request", "The chat sent something this server does not understand.")


# HTTP --------------------------------------------------------------------------------------------------


def _cors(request: web.Request, response: web.StreamResponse) -> None:
    origin = request.headers.get("Origin")
    if request.app[SETTINGS_KEY].allows(origin) and origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Origin check and CORS for the API and the WebSocket; refusals as JSON the widget can show."""
    api = request.path.startswith("/api/") or request.path == "/ws"
    try:
        if api and not request.app[SETTINGS_KEY].allows(request.headers.get("Origin")):
            raise BAD_ORIGIN
        if request.method == "OPTIONS" and api:
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
    except Refusal as refusal:
        response = web.json_response(refusal.body(), status=refusal.status)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(refusal.retry_after)))
    if api and not response.prepared:
        _cors(request, response)
    return response


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise Refusal(413, "too_long", "That message is too long.") from None
    except (ValueError, UnicodeDecodeError):
        raise NOT_UNDERSTOOD from None
    if not isinstance(data, dict):
        raise NOT_UNDERSTOOD
    return data


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    body = (resources.files("adapters.web") / "static" / name).read_bytes()
    response = web.Response(body=body, content_type=STATIC[name], charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def session(request: web.Request) -> web.Response:
    data = await _json(request)
    return web.json_response(await request.app[CHAT_KEY].session(data.get("token")))


async def message(request: web.Request) -> web.Response:
    data = await _json(request)
    chat = request.app[CHAT_KEY]
    visitor = chat.visitor(data.get("token"))
    try:
        return web.json_response(await chat.turn(visitor, data))
    except Refusal as refusal:
        message_id = data.get("id") if isinstance(data.get("id"), str) else None
        response = web.json_response(refusal.body(message_id), status=refusal.status)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(refusal.retry_after)))
        return response


async def poll(request: web.Request) -> web.Response:
    data = await _json(request)
    chat = request.app[CHAT_KEY]
    visitor = chat.visitor(data.get("token"))
    return web.json_response({"type": "news", "replies": await chat.news(visitor)})


async def _hello(socket: web.WebSocketResponse, chat: Chat) -> str | None:
    """The visitor a new WebSocket speaks for: its first frame, `{"type": "hello", "token"}` (a token
    in the URL would end up in proxies' access logs). None, and the socket closed, when it is not one."""
    try:
        frame = await socket.receive(timeout=HELLO_SECONDS)
        data = json.loads(frame.data) if frame.type == WSMsgType.TEXT else None
    except (TimeoutError, ValueError):
        data = None
    visitor = chat.signer.visitor(data.get("token")) if isinstance(data, dict) else None
    if visitor is None or not isinstance(data, dict) or data.get("type") != "hello":
        if not socket.closed:
            await socket.send_json(BAD_TOKEN.body())
            await socket.close(code=4403, message=b"bad token")
        return None
    await socket.send_json({"type": "ready"})
    return visitor


async def websocket(request: web.Request) -> web.WebSocketResponse:
    chat = request.app[CHAT_KEY]
    socket = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_BODY)
    _cors(request, socket)
    await socket.prepare(request)
    visitor = await _hello(socket, chat)
    if visitor is None:
        return socket
    chat.sockets.setdefault(visitor, set()).add(socket)
    try:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(frame.data)
            except ValueError:
                data = None
            message_id = data.get("id") if isinstance(data, dict) else None
            message_id = message_id if isinstance(message_id, str) else None
            if isinstance(data, dict) and data.get("type") == "ping":
                await socket.send_json({"type": "pong"})
                continue
            try:
                await socket.send_json(await chat.turn(visitor, data))
            except Refusal as refusal:
                await socket.send_json(refusal.body(message_id))
    finally:
        sockets = chat.sockets.get(visitor, set())
        sockets.discard(socket)
        if not sockets:
            chat.sockets.pop(visitor, None)
    return socket


def make_app(chat: Chat) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[SETTINGS_KEY] = chat.settings
    app[CHAT_KEY] = chat
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/{name:widget\\.(?:js|css)}", static_file)
    app.router.add_post("/api/session", session)
    app.router.add_post("/api/message", message)
    app.router.add_post("/api/poll", poll)
    app.router.add_get("/ws", websocket)
    app.router.add_route("OPTIONS", "/api/{tail:.*}", healthz)  # answered by the guard

    async def close_sockets(app: web.Application) -> None:
        for sockets in list(chat.sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutdown")

    app.on_shutdown.append(close_sockets)
    return app


class WebServer:
    """The server on its own thread and event loop, started and closed from others (`crm serve`, tests)."""

    def __init__(
        self, assistant: Assistant, settings: WebSettings, host: str | None = None, port: int | None = None
    ) -> None:
        self.chat = Chat(assistant, settings)
        self.host = settings.host if host is None else host
        self.port = settings.port if port is None else port
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="web-chat", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '') else self.host}:{self.port}"

    def start(self) -> WebServer:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stopping(self) -> bool:
        """Whether the server has been told to stop (it may still be finishing)."""
        return self._stop is not None and self._stop.is_set()

    def close(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self.chat.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.chat.loop = asyncio.get_running_loop()
        runner = web.AppRunner(make_app(self.chat), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.SockSite(runner, listening_socket(self.host, self.port), backlog=1024)
            await site.start()
        except BaseException as error:
            self._error = error
            await runner.cleanup()
            self._ready.set()
            return
        server: Any = site._server  # an asyncio.Server: the port the system chose for port 0
        if server is not None and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])
        watcher = asyncio.create_task(self.chat.watch_news(self._stop))
        listener = self.chat.assistant.listen_for_news(self.chat.news_from_elsewhere)
        self._ready.set()
        await self._stop.wait()
        await asyncio.to_thread(listener.close)
        await asyncio.wait({watcher}, timeout=WATCHER_SECONDS)  # its last push, then the sockets close
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await runner.cleanup()
