"""python-telegram-bot updates -> one assistant turn each -> HTML messages with inline keyboards.

The bot runs python-telegram-bot's `Application` on an event loop of its own thread; turns are
synchronous database work and run on a small thread pool, so the loop keeps polling and sending.
Each update is handled once: updates of one chat in order, chats side by side (adapters/telegram/
lanes.py); the highest update id below which all are done is stored, so a restart skips what was
handled before it, and the assistant's per-conversation message ids stop a second process's repeat.

Who is who: a Telegram account linked to a staff member (`telegram_id`, or `/link CODE`) is staff;
everyone else is a customer and reaches only the support bot. In a group the bot answers only when
addressed, only staff, and sends what shows a customer's tickets privately.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from telegram import BotCommand, CallbackQuery, LinkPreviewOptions, ReplyParameters, Update
from telegram import Message as TgMessage
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, ExtBot, TypeHandler
from telegram.request import HTTPXRequest
from tornado.httpserver import HTTPServer

from adapters.processes import listening_socket
from adapters.telegram.lanes import Lanes
from adapters.telegram.redaction import hide_secrets
from adapters.telegram.render import CHOSEN, ButtonValues, chosen_keyboard, chunks, pressed_label
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.updates import readable, serve_webhook, stop_webhook
from assistant import cursors, linking, preferences
from assistant.channels import ChannelError
from assistant.engine import Assistant
from assistant.messages import Message, Reply
from assistant.replies import say

log = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = "telegram"
WORKERS = 2  # turns at once: CPU-bound Python under one GIL (as Slack's); scale with processes
POLL_TIMEOUT = 25  # seconds a getUpdates waits for news
NEWS_SECONDS = 2.0  # how often staff answers are looked for, to push to customers
CURSOR_SECONDS = 1.0  # how often the handled cursor is stored
SEND_TRIES = 3
VOICE_SECONDS = 120  # the longest voice note transcribed
VOICE_BYTES = 1_000_000  # refused before the download: a few minutes of Telegram's Opus
UPDATES = ["message", "callback_query"]
# what shows a customer's tickets: answered in the staff member's private chat, never in a group
PRIVATE_INTENTS = frozenset({"list_tickets", "show_ticket", "reply_ticket", "close_ticket", "assign_ticket"})
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
COMMANDS = {"start": "help", "help": "help"}  # commands that are a turn's words


@dataclass(frozen=True)
class Turn:
    """One update as the assistant's turn: where the answer goes and who asked."""

    chat: int
    sender: str
    text: str
    key: str
    group: bool
    reply_to: int | None = None  # in a group, the message the answer replies to
    spoken: bool = False


class TelegramBot:
    """The Telegram bot: an `Application` whose one handler takes every update in order."""

    def __init__(
        self,
        assistant: Assistant,
        settings: TelegramSettings,
        workers: int = WORKERS,
        host: str = "0.0.0.0",
    ) -> None:
        self.assistant = assistant
        self.settings = settings
        self.host = host
        self.values = ButtonValues()
        hide_secrets(settings.token, settings.webhook_secret)  # first: building the bot logs its URLs
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .bot(
                _TolerantBot(
                    settings.token,
                    base_url=settings.api_url,
                    base_file_url=settings.file_url,
                    request=HTTPXRequest(connection_pool_size=256),  # as ApplicationBuilder makes them
                    get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + 10),
                )
            )
            .concurrent_updates(False)  # the lanes order and spread them
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="telegram-turn")
        self.cursor = f"{CHANNEL}:{settings.token.split(':')[0]}"
        self.lanes = Lanes()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._webhook: HTTPServer | None = None
        self._voice: Any = None  # the transcriber, built at the first voice note
        self._voice_lock = threading.Lock()
        self.username = ""
        self.bot_id = 0
        self._stored = 0  # the cursor last written
        self._closing = False

    # --- running --------------------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> TelegramBot:
        """Connects (getMe checks the token), resumes after the stored cursor and starts listening;
        raises what stopped it, so `crm serve` says why."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            try:
                self.loop.run_until_complete(self._main(ready, failed))
            except BaseException as error:
                failed.append(error)
                ready.set()
            finally:
                self.loop.close()

        self._thread = threading.Thread(target=run, name="telegram", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the Telegram Bot API did not answer")
        if failed:
            raise failed[0]
        return self

    def close(self) -> None:
        self._closing = True  # the outbox's sends are refused from now on, and tried again later
        if self.loop is not None and self._stopping is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(30)
        self.pool.shutdown(wait=True)

    async def _main(self, ready: threading.Event, failed: list[BaseException]) -> None:
        self._stopping = asyncio.Event()
        app = self.application
        await app.initialize()  # getMe: a wrong token fails here
        self.username = app.bot.username or ""
        self.bot_id = app.bot.id
        after = await self._thread_call(cursors.last_handled, self.assistant.runtime, self.cursor) or 0
        # a webhook brings updates as they come and retries them out of order: the conversations'
        # message ids catch its repeats, and an old id may be new; polling resumes after the cursor
        self.lanes = Lanes(0 if self.settings.webhook_url else after)
        await app.start()
        try:
            await self._listen()
        except BaseException:
            await app.stop()
            await app.shutdown()
            raise
        background = [asyncio.ensure_future(self._every(NEWS_SECONDS, self._push_news))]
        background.append(asyncio.ensure_future(self._every(CURSOR_SECONDS, self._store_cursor)))
        ready.set()
        await self._stopping.wait()
        for task in background:
            task.cancel()
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._webhook is not None:
            await stop_webhook(self._webhook)
        await self.lanes.drain()
        await self._store_cursor()
        await app.stop()
        await app.shutdown()

    async def _listen(self) -> None:
        app = self.application
        assert app.updater is not None
        await app.bot.set_my_commands(
            [
                BotCommand("start", say("telegram_command_start")),
                BotCommand("help", say("telegram_command_help")),
                BotCommand("link", say("telegram_command_link")),
                BotCommand("voice", say("telegram_command_voice")),
            ]
        )
        if self.settings.webhook_url:  # served by adapters/telegram/updates.py, not by the Updater
            self._webhook = await serve_webhook(
                app.bot,
                app.update_queue,
                self.settings,
                listening_socket(self.host, self.settings.port),  # TCP, shared by --processes
                UPDATES,
            )
            return
        # Updates handled before a restart but not confirmed come again first: the lanes drop them (by
        # the stored cursor) and the next poll confirms them. Confirming up to the cursor here instead
        # would drop every update Telegram numbered afresh below it.
        await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT, allowed_updates=UPDATES)

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                log.exception("a Telegram background job failed")

    async def _store_cursor(self) -> None:
        done = self.lanes.done_through
        if done > self._stored:
            await self._thread_call(cursors.advance, self.assistant.runtime, self.cursor, done)
            self._stored = done

    async def _thread_call(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    # --- updates --------------------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.lanes.renumbered(update.update_id):
            log.warning("Telegram numbers updates afresh from %s; the cursor follows", update.update_id)
            await self._thread_call(
                cursors.restart, self.assistant.runtime, self.cursor, update.update_id - 1
            )
            self._stored = update.update_id - 1
        if self.lanes.seen(update.update_id):
            log.info("dropped update %s: handled before", update.update_id)
            return
        chat = update.effective_chat
        if chat is None or update.effective_user is None or update.effective_user.is_bot:
            self.lanes.skip(update.update_id)
            return
        if update.callback_query is not None:
            query = update.callback_query
            await self.lanes.submit(chat.id, update.update_id, lambda: self._on_button(query))
        elif update.message is not None and self._for_me(update.message):
            message = update.message
            await self.lanes.submit(chat.id, update.update_id, lambda: self._on_message(message))
        else:
            self.lanes.skip(update.update_id)

    def _for_me(self, message: TgMessage) -> bool:
        """A private message, or in a group one that mentions the bot or replies to it."""
        if message.text is None and message.voice is None:
            return False
        if message.chat.type == ChatType.PRIVATE:
            return True
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == self.bot_id:
            return True
        mention = f"@{self.username}".casefold()
        return any(
            entity.type in (MessageEntityType.MENTION, MessageEntityType.BOT_COMMAND)
            and mention in message.parse_entity(entity).casefold()
            for entity in message.entities
        )

    async def _on_message(self, message: TgMessage) -> None:
        sender = str(message.from_user.id) if message.from_user else ""
        group = message.chat.type != ChatType.PRIVATE
        turn = Turn(
            message.chat.id,
            sender,
            "",
            f"{message.chat.id}:{message.message_id}",
            group,
            reply_to=message.message_id if group else None,
        )
        staff = await self._thread_call(self.assistant.is_staff, CHANNEL, sender)
        if group and not staff:  # a customer's data never shows in a group
            await self._answer(turn, Reply(say("telegram_group_customer", bot=self.username)))
            return
        if message.voice is not None:
            if not staff:
                await self._answer(turn, Reply(say("telegram_voice_staff_only")))
                return
            heard = await self._hear(message, turn)
            if heard is None:
                return
            turn = replace(turn, text=heard, spoken=True)
        else:
            text = self._without_mention(message.text or "")
            command, _, rest = text.partition(" ") if text.startswith("/") else ("", "", text)
            name = command[1:].split("@")[0].casefold()
            if name == "start" and linking.well_formed(rest):
                name = "link"  # a t.me/<bot>?start=CODE link opens the chat with the code
            if name in ("link", "voice"):  # settings, not turns: taken once, then done
                if await self._first_time(turn):
                    await self._say(turn, await self._setting(name, sender, rest.strip()))
                return
            words = COMMANDS.get(name, f"{name} {rest}".strip()) if command else text
            turn = replace(turn, text=words)
        await self._turn(turn, customer=not staff)

    async def _on_button(self, query: CallbackQuery) -> None:
        """A pressed button sends its value as the presser's next turn; in a group only the person the
        question was for may press it."""
        message = query.message if isinstance(query.message, TgMessage) else None
        sender = str(query.from_user.id)
        value = self.values.value(query.data or "")
        owner = _owner(message)
        if owner is not None and owner != sender:
            await _quietly(query.answer(say("telegram_not_your_button"), show_alert=True))
            return
        if value is None:
            chosen = query.data == CHOSEN
            await _quietly(
                query.answer(say("telegram_already_chosen") if chosen else say("telegram_button_gone"))
            )
            return
        await _quietly(query.answer())  # the button stops spinning
        if message is None:
            return
        label = pressed_label(message.reply_markup, query.data or "") or value
        await _quietly(message.edit_reply_markup(reply_markup=chosen_keyboard(label)))
        group = message.chat.type != ChatType.PRIVATE
        reply_to = message.reply_to_message.message_id if group and message.reply_to_message else None
        staff = await self._thread_call(self.assistant.is_staff, CHANNEL, sender)
        if group and not staff:
            return
        await self._turn(Turn(message.chat.id, sender, value, f"cb:{query.id}", group, reply_to), not staff)

    async def _turn(self, turn: Turn, customer: bool) -> None:
        message = Message(
            CHANNEL, turn.sender, turn.text, message_id=turn.key, customer=customer, spoken=turn.spoken
        )
        reply = await self._thread_call(self.assistant.handle, message)
        if reply.duplicate:
            log.info("dropped a repeat of %s (answered before)", turn.key)
            return
        if turn.group and reply.intent in PRIVATE_INTENTS:
            await self._privately(turn, reply)
            return
        await self._say(turn, reply)

    async def _privately(self, turn: Turn, reply: Reply) -> None:
        try:
            await self.deliver(int(turn.sender), reply)
        except Forbidden:  # the person never opened a private chat with the bot
            await self._say(turn, Reply(say("telegram_open_private", bot=self.username)))
            return
        await self._say(turn, Reply(say("telegram_sent_privately")))

    async def _first_time(self, turn: Turn) -> bool:
        """Whether an update answered outside a turn (a setting, a refusal) is new to every process:
        a turn de-duplicates itself, these take the same record first."""
        if await self._thread_call(self.assistant.first_time, CHANNEL, turn.sender, turn.key):
            return True
        log.info("dropped a repeat of %s (answered before)", turn.key)
        return False

    async def _answer(self, turn: Turn, reply: Reply) -> None:
        """A reply made here, not by a turn: sent once, even when the update reached two processes."""
        if await self._first_time(turn):
            await self._say(turn, reply)

    async def _say(self, turn: Turn, reply: Reply) -> None:
        try:
            await self.deliver(
                turn.chat, reply, turn.reply_to, spoken_for=turn.sender if turn.spoken else None
            )
        except TelegramError as error:
            log.warning("could not answer in chat %s: %s", turn.chat, error)

    # --- voice ----------------------------------------------------------------------------------------

    async def _hear(self, message: TgMessage, turn: Turn) -> str | None:
        """The voice note's words; None when it could not be heard (the sender is told why)."""
        voice = message.voice
        assert voice is not None
        if (voice.file_size or 0) > VOICE_BYTES:
            await self._answer(turn, Reply(say("telegram_voice_too_long", seconds=VOICE_SECONDS)))
            return None
        await _quietly(message.chat.send_action("typing"))
        file = await voice.get_file()
        audio = bytes(await file.download_as_bytearray())
        heard, problem = await self._thread_call(self._transcribe, audio)
        if problem is not None:
            await self._answer(turn, Reply(problem))
            return None
        if not heard.strip():
            await self._answer(turn, Reply(say("telegram_voice_unclear")))
            return None
        return heard

    def _transcribe(self, audio: bytes) -> tuple[str, str | None]:
        """(words, None), or ("", what went wrong in plain words)."""
        try:
            from adapters.voice.audio import AudioError, load_audio
            from adapters.voice.transcriber import VoiceError, open_transcriber
        except ImportError:
            return "", say("telegram_voice_unavailable")
        with self._voice_lock:  # one decoder, one utterance at a time
            try:
                if self._voice is None:
                    self._voice = open_transcriber(None, None, self.assistant.parser.index)
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / "note.ogg"
                    path.write_bytes(audio)
                    pcm = load_audio(path, self._voice.rate)
                if len(pcm) > VOICE_SECONDS * self._voice.rate:
                    return "", say("telegram_voice_too_long", seconds=VOICE_SECONDS)
                return str(self._voice.transcribe(pcm)), None
            except AudioError as error:
                return "", say("telegram_voice_bad_audio", problem=str(error))
            except VoiceError as error:
                log.error("voice notes cannot be transcribed: %s", error)
                return "", say("telegram_voice_unavailable")

    def _voice_note(self, reply: Reply) -> bytes | None:
        """The reply spoken (its short speakable form) as OGG/Opus; None when speech is unavailable."""
        try:
            from adapters.voice.speak import SpeakError, speak_to_file
            from adapters.voice.speakable import spoken
        except ImportError:
            return None
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "reply.ogg"
                speak_to_file(spoken(reply), path)
                return path.read_bytes()
        except (SpeakError, OSError) as error:
            log.warning("could not speak a reply: %s", error)
            return None

    async def _setting(self, command: str, sender: str, words: str) -> Reply:
        """/link CODE links this chat to a member of staff; /voice on|off sets voice replies."""
        if command == "link":
            return await self._thread_call(linking.redeem, self.assistant.runtime, CHANNEL, sender, words)
        wanted = words.casefold()
        if wanted not in ("on", "off"):
            on = await self._thread_call(preferences.voice_replies, self.assistant.runtime, CHANNEL, sender)
            return Reply(say("telegram_voice_setting", state="on" if on else "off"))
        changed = await self._thread_call(
            preferences.set_voice_replies, self.assistant.runtime, CHANNEL, sender, wanted == "on"
        )
        if not changed:
            return Reply(say("telegram_voice_not_linked"))
        return Reply(say("telegram_voice_set", state=wanted))

    # --- sending --------------------------------------------------------------------------------------

    async def deliver(
        self, chat: int, reply: Reply, reply_to: int | None = None, spoken_for: str | None = None
    ) -> None:
        """The reply as one or more messages (the keyboard under the last), then as a voice note when
        it answers a voice note and the person keeps voice replies on."""
        bot = self.application.bot
        answering = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        for number, chunk in enumerate(chunks(reply, self.values)):
            send = partial(
                bot.send_message,
                chat,
                chunk.html,
                parse_mode=ParseMode.HTML,
                reply_markup=chunk.keyboard,
                reply_parameters=answering if number == 0 else None,
                link_preview_options=NO_PREVIEW,
            )
            await self._send(send)
        if spoken_for is None or not reply.plain.strip():
            return
        if not await self._thread_call(
            preferences.voice_replies, self.assistant.runtime, CHANNEL, spoken_for
        ):
            return
        audio = await self._thread_call(self._voice_note, reply)
        if audio is not None:
            await self._send(
                lambda: self.application.bot.send_voice(chat, audio, reply_to_message_id=reply_to)
            )

    @staticmethod
    async def _send(call: Callable[[], Awaitable[Any]]) -> None:
        """One Bot API call, again after Telegram's flood wait or a network hiccup."""
        for attempt in range(SEND_TRIES):
            try:
                await call()
                return
            except RetryAfter as error:
                if attempt == SEND_TRIES - 1:
                    raise
                await asyncio.sleep(_seconds(error.retry_after))
            except (TimedOut, NetworkError):
                if attempt == SEND_TRIES - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Runs a coroutine on the bot's loop from another thread (the outbox's) and waits for it."""
        if self.loop is None or not self.loop.is_running() or self._closing:
            coroutine.close()
            raise ChannelError("the Telegram bot is stopping")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except (TimeoutError, CancelledError) as error:  # the loop stopped or Telegram hung: try later
            future.cancel()
            raise ChannelError("the Telegram send did not finish") from error

    # --- customers' news ------------------------------------------------------------------------------

    async def _push_news(self) -> None:
        """Staff answers and rating questions reach Telegram customers while they are away."""
        for sender in await self._thread_call(self.assistant.waiting_news, CHANNEL):
            for reply in await self._thread_call(self.assistant.news, CHANNEL, sender):
                await self._say(Turn(int(sender), sender, "", "", False), reply)

    @staticmethod
    async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("a Telegram update failed: %s", context.error, exc_info=context.error)

    def _without_mention(self, text: str) -> str:
        mention = f"@{self.username}"
        return " ".join(text.replace(mention, " ").split()) if self.username else text.strip()


class _TolerantBot(ExtBot[None]):
    """An ExtBot that reads each polled update on its own. python-telegram-bot reads a getUpdates answer
    as a whole: one update it cannot read (a key missing, a value of the wrong type, a shape from a newer
    Bot API) fails the whole batch, which it then asks for again, forever, and the bot answers nobody.
    Here such an update is passed on as an empty one with its id, which the bot skips and confirms."""

    __slots__ = ()

    async def _post(
        self, endpoint: str, data: dict[str, Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [readable(update, self) for update in result]
        return result


def _seconds(value: float | timedelta) -> float:
    """python-telegram-bot gives durations as seconds or, by its setting, as timedeltas."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _owner(message: TgMessage | None) -> str | None:
    """Whose question a group message's buttons answer: the person the bot replied to."""
    if message is None or message.chat.type == ChatType.PRIVATE:
        return None
    asked = message.reply_to_message
    return str(asked.from_user.id) if asked is not None and asked.from_user is not None else None


async def _quietly(call: Awaitable[Any]) -> None:
    """A call whose failure changes nothing for the turn (a button's spinner, an edited keyboard)."""
    try:
        await call
    except TelegramError as error:
        log.info("Telegram refused a cosmetic call: %s", error)
