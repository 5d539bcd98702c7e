"""The web chat's server over real HTTP and a real WebSocket on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
from web_world import (
    ORIGIN,
    SECRET,
    Refused,
    Visitor,
    open_ticket,
    receive,
    serving,
    settings,
    staff_says,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from adapters.platforms import PLATFORMS, PlatformError
from adapters.web.server import WebServer
from adapters.web.settings import WebSettings, WebSettingsError, origin_of
from adapters.web.tokens import Signer
from assistant.engine import Assistant
from assistant.limits import RateLimiter
from assistant.messages import Reply
from assistant.runtime import Runtime

KB_QUESTION = "how do I get a refund? we were charged twice"


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def texts(response_body: dict[str, object]) -> list[str]:
    replies = response_body["replies"]
    assert isinstance(replies, list)
    return [r["text"] for r in replies]


def test_the_widget_ships_inside_the_package(server: WebServer) -> None:
    visitor = Visitor(server.url, origin=None)
    js = visitor.request("GET", "/widget.js")
    assert js.status == 200 and js.headers["Content-Type"].startswith("application/javascript")
    assert "textContent" in js.raw and "innerHTML" not in js.raw.replace("never innerHTML", "")
    css = visitor.request("GET", "/widget.css")
    assert css.status == 200 and ".crmw-panel" in css.raw
    assert visitor.request("GET", "/widget.exe").status == 404


def test_a_signed_token_is_accepted_and_a_forged_one_refused(server: WebServer) -> None:
    visitor = Visitor(server.url)
    first = visitor.start()
    assert first.status == 200 and first.body["history"] == []
    token = first.body["token"]
    assert visitor.start().body["token"] == token  # the same visitor again
    visitor_id, _, signature = token.partition(".")
    for forged in (
        f"{visitor_id}.{'0' * len(signature)}",  # a guessed signature
        f"v-{'A' * 24}.{signature}",  # another id with this signature
        Signer("another-secret-0123456789").issue()[1],  # signed with another key
        "v-short.abc",
        "",
    ):
        refused = Visitor(server.url, token=forged)
        if forged:
            response = refused.start()
            assert response.status == 403 and response.body["code"] == "bad_token", forged
        assert refused.say("hi").status == 403
        assert refused.poll().status == 403
        with pytest.raises(Refused) as caught, refused.socket():
            pass
        assert caught.value.args[0]["code"] == "bad_token"


def test_a_websocket_says_who_it_is_first(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    url = server.url.replace("http://", "ws://") + f"/ws?token={visitor.token}"  # not read from the URL
    with connect(url, origin=ORIGIN, open_timeout=10) as socket:
        socket.send('{"type": "message", "text": "hi", "id": "x"}')
        assert receive(socket)["code"] == "bad_token"
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    assert socket.close_code == 4403


def test_other_origins_are_refused(server: WebServer) -> None:
    allowed = Visitor(server.url)
    response = allowed.start()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    preflight = allowed.request("OPTIONS", "/api/message")
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    for origin in ("https://evil.example", "http://shop.test:8001", "null", None):
        stranger = Visitor(server.url, origin=origin, token=allowed.token)
        for refused in (stranger.start(), stranger.say("hi"), stranger.request("OPTIONS", "/api/message")):
            assert refused.status == 403 and refused.body["code"] == "bad_origin", origin
            assert "Access-Control-Allow-Origin" not in refused.headers
        if origin is not None:
            with pytest.raises(InvalidStatus), stranger.socket():
                pass


def test_a_knowledge_base_answer_and_buttons(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    answer = visitor.say(KB_QUESTION)
    assert answer.status == 200 and answer.body["type"] == "turn" and answer.body["id"] == "t1"
    assert "refund" in texts(answer.body)[0]
    unsure = visitor.say("purple elephants dance on tuesdays").body["replies"][0]
    assert {"label": "Talk to a person", "value": "let me talk to a person", "kind": "choose"} in unsure[
        "buttons"
    ]


def test_the_rate_limit_and_the_size_limit(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    too_long = visitor.say("x" * 2001)
    assert too_long.status == 413 and too_long.body["code"] == "too_long"
    assert "2,000 characters" in too_long.body["text"]
    huge = visitor.say("x" * 100_000)  # past what the server reads at all
    assert huge.status == 413 and huge.body["code"] == "too_long"
    answered = [visitor.say("hi").status for _ in range(5)]
    assert answered == [200] * 5
    limited = visitor.say("hi")
    assert limited.status == 429 and limited.body["code"] == "rate_limited"
    assert "wait" in limited.body["text"] and int(limited.headers["Retry-After"]) >= 1
    other = Visitor(server.url)  # the limit is per visitor
    other.start()
    assert other.say("hi").status == 200
    with other.socket() as socket:
        for _ in range(5):
            socket.send('{"type": "message", "text": "hello", "id": "w"}')
        frames = [receive(socket) for _ in range(5)]
    assert [f["type"] for f in frames] == ["turn"] * 4 + ["error"]
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["id"] == "w"


def test_the_bucket_fills_again() -> None:
    clock = [0.0]
    limit = RateLimiter(burst=2, per_second=1.0, clock=lambda: clock[0])
    assert [limit.wait("web", "v") for _ in range(2)] == [0.0, 0.0]
    assert limit.wait("web", "v") == pytest.approx(1.0)
    clock[0] = 1.0
    assert limit.wait("web", "v") == 0.0
    clock[0] = 100.0
    assert limit.wait("web", "v") == 0.0


def test_a_returning_visitor_continues_and_sees_answers_from_while_away(
    server: WebServer, bot: Assistant
) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    number = open_ticket(visitor.ask, "the export to CSV fails with an error")
    staff_says(bot, f"reply to {number}: we fixed the export")
    back = Visitor(server.url, token=visitor.token).start()  # a reload: the same token
    assert [line["who"] for line in back.body["history"]][:2] == ["customer", "assistant"]
    assert back.body["history"][0]["text"] == "I want to open a ticket"
    assert texts(back.body) == [f'New reply on ticket #{number}: "we fixed the export"']
    assert back.body["replies"][0]["who"] == "staff"
    assert Visitor(server.url, token=visitor.token).start().body["replies"] == []  # shown once


def test_a_staff_answer_is_pushed_live_over_the_websocket(server: WebServer, bot: Assistant) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    with visitor.socket() as socket:

        def ask(text: str) -> str:
            socket.send(json.dumps({"type": "message", "text": text, "id": text[:20]}))
            turn = receive(socket)
            assert turn["type"] == "turn" and turn["id"] == text[:20]
            return str(turn["replies"][0]["text"])

        number = open_ticket(ask, "my invoices show the wrong VAT")
        started = time.monotonic()
        staff_says(bot, f"reply to {number}: the VAT is corrected")
        news = receive(socket)
        assert news == {
            "type": "news",
            "replies": [
                {
                    "who": "staff",
                    "text": f'New reply on ticket #{number}: "the VAT is corrected"',
                    "table": None,
                    "buttons": [],
                }
            ],
        }
        assert time.monotonic() - started < 5
    assert visitor.poll().body["replies"] == []


def test_answers_being_pushed_when_the_server_stops_still_reach_the_socket(
    bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = WebServer(bot, settings()).start()
    closing = threading.Thread(target=server.close)
    taking, taken = threading.Event(), threading.Event()
    take = bot.news
    try:
        visitor = Visitor(server.url)
        visitor.start()
        number = open_ticket(visitor.ask, "the report is empty")

        def news_while_stopping(channel: str, sender: str) -> list[Reply]:
            taking.set()
            assert taken.wait(15)
            return take(channel, sender)

        with visitor.socket() as socket:
            staff_says(bot, f"reply to {number}: try it again now")
            monkeypatch.setattr(bot, "news", news_while_stopping)
            assert taking.wait(15)
            closing.start()  # a SIGTERM (a restart, a deploy) while the answer is being taken
            assert wait_until(server.stopping)
            taken.set()
            assert receive(socket)["replies"][0]["text"].endswith('"try it again now"')
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=15)
        assert socket.close_code == 1001
    finally:
        taken.set()
        if closing.ident is None:
            server.close()
        else:
            closing.join(15)


def test_the_http_fallback_polls_for_answers(server: WebServer, bot: Assistant) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    number = open_ticket(visitor.ask, "the dashboard is blank")
    staff_says(bot, f"reply to {number}: clear the cache please")
    polled = visitor.poll()
    assert polled.body["type"] == "news"
    assert texts(polled.body) == [f'New reply on ticket #{number}: "clear the cache please"']


def test_the_bot_stays_quiet_while_a_person_handles_the_conversation(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    handoff = texts(visitor.say("let me talk to a person").body)[0]
    assert "person" in handoff
    assert visitor.say("hello? anyone there?").body["replies"] == []
    with visitor.socket() as socket:
        socket.send('{"type": "message", "text": "still waiting", "id": "q"}')
        assert receive(socket) == {"type": "turn", "id": "q", "replies": []}


def test_a_retried_message_is_answered_once(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    body = {"token": visitor.token, "text": "I want to open a ticket", "id": "same"}
    assert visitor.request("POST", "/api/message", body).body["replies"]
    assert visitor.request("POST", "/api/message", body).body["replies"] == []  # the same id: dropped


def test_a_script_message_is_text_in_the_json(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    attack = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    visitor.say(attack)
    history = Visitor(server.url, token=visitor.token).start()
    assert history.body["history"][0] == {"who": "customer", "text": attack}
    assert "<script>alert('x')</script>" in history.raw  # as text in JSON, for textContent; not escaped


def test_bad_requests_get_a_clear_answer(server: WebServer) -> None:
    visitor = Visitor(server.url)
    visitor.start()
    empty = visitor.say("   ")
    assert empty.status == 400 and empty.body["code"] == "empty"
    with visitor.socket() as socket:
        socket.send("not json")
        assert receive(socket)["code"] == "empty"
        socket.send('{"type": "ping"}')
        assert receive(socket) == {"type": "pong"}


def test_settings_come_from_the_environment_and_hide_the_secret(runtime: Runtime) -> None:
    env = {"CRM_WEB_SECRET": SECRET, "CRM_WEB_ORIGINS": "https://Shop.example/, http://localhost:3000"}
    settings = WebSettings.from_env(env)
    assert settings.origins == {"https://shop.example", "http://localhost:3000"}
    assert settings.port == 8080 and SECRET not in repr(settings)
    assert settings.allows("https://shop.example") and not settings.allows("https://shop.example.evil")
    assert (
        origin_of("https://shop.example:443") == "https://shop.example" and origin_of("javascript:1") is None
    )
    for broken, said in (
        ({"CRM_WEB_ORIGINS": "https://a.example"}, "CRM_WEB_SECRET is not set"),
        ({**env, "CRM_WEB_SECRET": "short"}, "too short"),
        ({"CRM_WEB_SECRET": SECRET}, "CRM_WEB_ORIGINS is not set"),
        ({**env, "CRM_WEB_ORIGINS": "shop.example"}, "is not an origin"),
        ({**env, "CRM_WEB_PORT": "http"}, "CRM_WEB_PORT must be a port number"),
    ):
        with pytest.raises(WebSettingsError, match=said) as caught:
            WebSettings.from_env(broken)
        assert SECRET not in str(caught.value)
    web = next(p for p in PLATFORMS if p.name == "web")
    with pytest.raises(PlatformError, match="CRM_WEB_SECRET is not set") as refused:
        monkey = pytest.MonkeyPatch()
        monkey.delenv("CRM_WEB_SECRET", raising=False)
        try:
            web.starter()(runtime, None)  # type: ignore[arg-type]
        finally:
            monkey.undo()
    assert refused.value.status == 2


def test_serve_starts_the_web_chat(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.channels import default_registry

    monkeypatch.setenv("CRM_WEB_SECRET", SECRET)
    monkeypatch.setenv("CRM_WEB_ORIGINS", ORIGIN)
    monkeypatch.setenv("CRM_WEB_PORT", "0")
    web = next(p for p in PLATFORMS if p.name == "web")
    with pytest.raises(PlatformError, match="CRM_WEB_PORT must be a port number"):
        web.starter()(bot.runtime, default_registry())
    with serving(bot) as running:
        taken = running.port
        monkeypatch.setenv("CRM_WEB_PORT", str(taken))
        with pytest.raises(PlatformError, match=f"cannot listen on port {taken}"):
            web.starter()(bot.runtime, default_registry())
