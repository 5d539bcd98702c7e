"""The fake Bot API against the real python-telegram-bot: Bot calls, getUpdates semantics, files, polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi, post_webhook
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.redaction import hide_secrets

OGG = b"OggS\x00\x02" + bytes(range(256)) * 4  # not real audio; the bytes only have to survive the trip


def run(coro: Coroutine[Any, Any, Any], timeout: float = 15) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def seconds(value: float | dt.timedelta) -> float:
    """PTB 22 gives durations as ints, or timedeltas with PTB_TIMEDELTA set."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


def bot_for(fake: FakeBotApi, token: str = TOKEN) -> Bot:
    """A bare python-telegram-bot Bot: httpx logs its URLs, token and all, as under the real adapter,
    which keeps the token out of them (the log guard fails a run that shows it)."""
    hide_secrets(token, "")
    return Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)


def test_get_me_and_wrong_token(fake: FakeBotApi) -> None:
    async def main() -> None:
        async with bot_for(fake) as bot:
            assert bot.username == BOT_USERNAME
            me = await bot.get_me()
            assert me.is_bot and me.id == fake.bot_id
        with pytest.raises(InvalidToken):
            await bot_for(fake, "42:wrong").get_me()

    run(main())
    assert [c.method for c in fake.calls()] == ["getMe", "getMe"]


def test_send_message_records_the_keyboard_and_echoes_it(fake: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y:1")]])

    async def main() -> None:
        async with bot_for(fake) as bot:
            first = await bot.send_message(1001, "Create the deal?", reply_markup=keyboard)
            second = await bot.send_message(1001, "42")
            other = await bot.send_message(-500, "hello group")
            assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
            assert first.reply_markup == keyboard and first.from_user is not None
            assert first.from_user.username == BOT_USERNAME and first.chat.type == "private"
            assert other.chat.type == "group"
            edited = await bot.edit_message_text("Deal created", chat_id=1001, message_id=1)
            assert isinstance(edited, type(first)) and edited.reply_markup is None
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text("Deal created", chat_id=1001, message_id=1)
            with pytest.raises(BadRequest, match="not found"):
                await bot.edit_message_reply_markup(chat_id=1001, message_id=99)
            await bot.send_chat_action(1001, "typing")
            with pytest.raises(EndPointNotFound):  # PTB reads Telegram's 404 so
                await bot.do_api_request("noSuchMethod")

    run(main())
    sent = fake.sent(chat_id=1001)
    assert [c.params["text"] for c in sent] == ["Create the deal?", "42"]  # "42" stays a string
    assert sent[0].params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "y:1"}]]}
    assert sent[0].params["chat_id"] == 1001
    assert fake.texts() == ["Create the deal?", "42", "hello group"]
    assert fake.message(1001, 1)["text"] == "Deal created"
    assert fake.calls("sendChatAction")[0].params["action"] == "typing"


def test_get_updates_offset_confirms_and_negative_offset_forgets(fake: FakeBotApi) -> None:
    ids = [fake.push_text(1001, 1001, f"m{i}") for i in range(5)]

    async def main() -> None:
        async with bot_for(fake) as bot:
            assert [u.update_id for u in await bot.get_updates()] == ids
            assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
            assert [u.update_id for u in await bot.get_updates(offset=ids[2])] == ids[2:]
            assert fake.updates_confirmed() == ids[:2]
            assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
            assert fake.updates_dropped() == ids[2:4]
            assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()
            assert fake.pending() == []

    run(main())
    assert fake.updates_confirmed() == [*ids[:2], ids[-1]]


def test_get_updates_long_polls_until_an_update_arrives(fake: FakeBotApi) -> None:
    async def main() -> tuple[float, float]:
        async with bot_for(fake) as bot:
            started = time.monotonic()
            assert await bot.get_updates(timeout=0.3) == ()
            empty = time.monotonic() - started
            threading.Timer(0.2, fake.push_text, (1001, 1001, "late")).start()
            started = time.monotonic()
            updates = await bot.get_updates(timeout=5)
            assert updates[0].message is not None and updates[0].message.text == "late"
            return empty, time.monotonic() - started

    empty, woke = run(main())
    assert 0.25 < empty < 2 and woke < 2


def test_a_flood_is_served_in_batches(fake: FakeBotApi) -> None:
    ids = [fake.push_text(1001, 1001, f"m{i}") for i in range(500)]

    async def main() -> list[int]:
        seen: list[int] = []
        async with bot_for(fake) as bot:
            offset = 0
            while len(seen) < 500:
                batch = await bot.get_updates(offset=offset, timeout=1)
                assert len(batch) <= 100
                seen += [u.update_id for u in batch]
                offset = batch[-1].update_id + 1
            await bot.get_updates(offset=offset, timeout=0)
        return seen

    started = time.monotonic()
    assert run(main()) == ids
    assert time.monotonic() - started < 5
    assert len(fake.calls("getUpdates")) == 6 and fake.updates_confirmed() == ids


def test_entities_for_commands_and_mentions(fake: FakeBotApi) -> None:
    update = Update.de_json(fake.text_update(-300, 7, f"/deals@{BOT_USERNAME} for @{BOT_USERNAME} x"), None)
    assert update.message is not None and update.message.chat.type == "group"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 19),
        ("mention", 24, 13),
    ]
    assert fake.pending() == []  # text_update does not queue


def test_voice_round_trip(fake: FakeBotApi) -> None:
    fake.push_voice(1001, 1001, OGG, duration=3)

    async def main() -> None:
        async with bot_for(fake) as bot:
            (update,) = await bot.get_updates()
            assert update.message is not None and update.message.voice is not None
            assert seconds(update.message.voice.duration) == 3
            file = await bot.get_file(update.message.voice.file_id)
            assert bytes(await file.download_as_bytearray()) == OGG
            sent = await bot.send_voice(1001, b"reply-audio", duration=2, caption="Here")
            assert sent.voice is not None
            again = await bot.get_file(sent.voice.file_id)
            assert bytes(await again.download_as_bytearray()) == b"reply-audio"
            doc = await bot.send_document(1001, b"a,b\n1,2\n", filename="deals.csv")
            assert doc.document is not None and doc.document.file_name == "deals.csv"

    run(main())
    voice, document = fake.sent()
    assert voice.files["voice"].data == b"reply-audio" and voice.params["duration"] == 2
    assert voice.params["caption"] == "Here"
    assert document.files["document"].data == b"a,b\n1,2\n"


def test_failures_for_retry_tests(fake: FakeBotApi) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)
    fake.fail_next("sendMessage", status=500)

    async def main() -> None:
        async with bot_for(fake) as bot:
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(1, "a")
            assert seconds(retry.value.retry_after) == 3
            with pytest.raises(NetworkError):
                await bot.send_message(1, "a")
            await bot.send_message(1, "a")

    run(main())
    assert [c.status for c in fake.calls("sendMessage")] == [429, 500, 200]
    assert len(fake.sent()) == 1


def test_webhook_set_blocks_get_updates_and_post_webhook_sends_the_secret(fake: FakeBotApi) -> None:
    received: list[tuple[str | None, bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/telegram"

    async def main() -> None:
        async with bot_for(fake) as bot:
            await bot.set_webhook(url, secret_token="fake-api-hook-secret")
            assert (await bot.get_webhook_info()).url == url
            with pytest.raises(Conflict):
                await bot.get_updates()
            await bot.delete_webhook()

    try:
        run(main())
        assert (fake.webhook_url, fake.webhook_secret) == ("", None)
        update = fake.text_update(1001, 1001, "hi")
        assert post_webhook(url, update, "fake-api-hook-secret").status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert received[0][0] == "fake-api-hook-secret" and b'"text": "hi"' in received[0][1]
    assert fake.calls("setWebhook")[0].params["secret_token"] == "fake-api-hook-secret"


def test_an_application_polls_texts_and_callback_queries(fake: FakeBotApi) -> None:
    hide_secrets(TOKEN, "")
    app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url).build()

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:7")]])
        await context.bot.send_message(update.effective_chat.id, "Pick one", reply_markup=keyboard)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))

    async def main() -> None:
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            fake.push_text(1001, 1001, "/start")
            fake.push_text(1001, 1001, "hello")
            sent = await asyncio.to_thread(fake.wait_for, 2)
            keyboard_message = next(c for c in sent if c.params["text"] == "Pick one")
            assert (
                keyboard_message.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done:7"
            )
            message_id = next(m["message_id"] for m in fake.bot_messages(1001) if m["text"] == "Pick one")
            last = fake.push_callback(1001, 1001, message_id, "done:7")
            await asyncio.to_thread(fake.wait_for, 1, method="editMessageText")
            await app.updater.stop()
            await app.stop()
            await asyncio.to_thread(fake.wait_confirmed, last)

    run(main(), timeout=20)
    assert sorted(fake.texts()) == ["Pick one", "echo: hello"]
    assert fake.calls("answerCallbackQuery")[0].params["text"] == "ok"
    assert fake.calls("deleteWebhook")  # the Updater clears any webhook before polling
    assert fake.pending() == []
    assert [m["text"] for m in fake.bot_messages(1001)] == ["pressed done:7", "echo: hello"]  # after the edit
