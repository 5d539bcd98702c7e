"""The widget end to end in a real headless browser: Debian's chromium driven by Selenium through
chromium-driver (no browser download), on a host page at another origin carrying only the script tag.

Outside CI a machine without chromium skips this; in CI (CI=true) that is a failure, as for PostgreSQL.
Screenshots at desktop and phone width land in CRM_WEB_SCREENSHOTS when it names a folder.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from web_world import serving, staff_says

from assistant.engine import Assistant

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20.0  # seconds for anything the page should show

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser test is required in CI: {reason}")
    pytest.skip(reason)


class HostPage:
    """Someone's site: one page with the widget's script tag, on its own port (another origin)."""

    def __init__(self) -> None:
        self.html = b""
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = page.html if self.path in ("/", "/index.html") else b"not here"
                self.send_response(200 if body is page.html else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        _unavailable(f"selenium is not installed: {error}")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            _unavailable(f"{path} is missing (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,860",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    try:
        browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except WebDriverException as error:
        _unavailable(f"chromium did not start: {error.msg}")
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


@pytest.fixture
def host() -> Iterator[HostPage]:
    page = HostPage()
    yield page
    page.close()


def _shoot(browser: Any, name: str) -> None:
    folder = os.environ.get("CRM_WEB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_a_visitor_talks_to_the_widget(driver: Any, host: HostPage, bot: Assistant) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def until(check: Callable[[], Any], what: str) -> Any:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(lambda _: check(), what)

    def messages(kind: str) -> list[str]:
        found = driver.find_elements(By.CSS_SELECTOR, f".crmw-log .crmw-{kind} .crmw-text")
        return [e.get_attribute("textContent") for e in found]

    def type_line(text: str) -> None:
        box = driver.find_element(By.CSS_SELECTOR, ".crmw-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def answered(count: int) -> list[str]:
        """Waits for the bot's count-th message (and the typing indicator gone); all its messages."""
        until(lambda: len(messages("bot")) >= count, f"the bot's message #{count}")
        until(lambda: not driver.find_element(By.CSS_SELECTOR, ".crmw-typing").is_displayed(), "no typing")
        return messages("bot")

    def open_chat() -> None:
        launcher = until(lambda: driver.find_elements(By.CSS_SELECTOR, ".crmw-launcher"), "the launcher")[0]
        assert launcher.text == "Northwind help"
        launcher.send_keys(Keys.ENTER)  # by keyboard: the launcher is a real button
        until(lambda: driver.find_element(By.CSS_SELECTOR, ".crmw-panel").is_displayed(), "the panel")
        until(lambda: driver.switch_to.active_element.get_attribute("class") == "crmw-input", "focus")
        until(lambda: "connected" in str(driver.execute_script("return window.__crmWebChat")), "connected")

    with serving(bot, origins=frozenset({host.url}), rate_burst=50) as server:
        host.html = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            "<title>Northwind</title></head><body><h1>Northwind Traders</h1>"
            f'<script src="{server.url}/widget.js" data-title="Northwind help" data-color="#1d6b3a" '
            "defer></script></body></html>"
        ).encode()
        driver.get(host.url)
        open_chat()
        log = driver.find_element(By.CSS_SELECTOR, ".crmw-log")
        assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"

        # a knowledge-base answer
        type_line("how do I get a refund? we were charged twice")
        assert "refund the extra charge" in answered(1)[-1]
        assert messages("me") == ["how do I get a refund? we were charged twice"]

        # a ticket, and a member of staff's answer pushed live
        type_line("I want to open a ticket")
        answered(2)
        type_line("the export to CSV fails with an error")
        opened = answered(3)[-1]
        number = re.search(r"#(\d+)", opened)
        assert number, opened
        assert "Sent to the customer" in staff_says(bot, f"reply to {number[1]}: we fixed the export")
        live = f'New reply on ticket #{number[1]}: "we fixed the export"'
        until(lambda: messages("staff") == [live], "the staff answer, live")
        _shoot(driver, "desktop")

        # a reload: the same visitor, the conversation and the answer still there
        driver.refresh()
        open_chat()
        until(lambda: messages("staff") == [live], "the staff answer after reloading")
        assert messages("me")[0] == "how do I get a refund? we were charged twice"

        # buttons are buttons: the handoff by one, then the bot stays quiet
        type_line("purple elephants dance on tuesdays")
        bot_count = len(answered(4))
        person = until(
            lambda: [
                b
                for b in driver.find_elements(By.CSS_SELECTOR, ".crmw-log .crmw-button")
                if b.text == "Talk to a person"
            ],
            "the Talk to a person button",
        )[-1]
        person.send_keys(Keys.ENTER)
        handoff = answered(bot_count + 1)[-1]
        assert "asked a person" in handoff
        assert messages("me")[-1] == "Talk to a person"
        type_line("hello? anyone there?")
        until(lambda: messages("me")[-1] == "hello? anyone there?", "the visitor's line")
        quiet = answered(bot_count + 1)
        assert len(quiet) == bot_count + 1  # nothing said while a person handles it
        ticket = re.search(r"#(\d+)", handoff)
        assert ticket, handoff
        staff_says(bot, f"reply to {ticket[1]}: hi, Maria here")
        until(lambda: messages("staff")[-1].endswith('"hi, Maria here"'), "the person's answer")

        # the rating question once the person resolved it, answered by a button
        staff_says(bot, f"resolve {ticket[1]}")
        type_line("thanks")
        asked = answered(bot_count + 2)[-1]
        assert "from 1 (poor) to 5 (great)" in asked
        five = [b for b in driver.find_elements(By.CSS_SELECTOR, ".crmw-log .crmw-button") if b.text == "5"]
        five[-1].click()
        assert "5 out of 5" in answered(bot_count + 3)[-1]

        # markup is text
        attack = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
        type_line(attack)
        until(lambda: messages("me")[-1] == attack, "the markup shown as text")
        until(lambda: not driver.find_element(By.CSS_SELECTOR, ".crmw-typing").is_displayed(), "answered")
        assert driver.execute_script("return window.__pwned") is None
        assert driver.find_elements(By.CSS_SELECTOR, ".crmw-log script, .crmw-log img") == []
        assert messages("error") == []

        # a phone's width: the panel fits the screen
        driver.set_window_size(390, 844)
        width = driver.execute_script("return document.documentElement.clientWidth")
        panel = driver.find_element(By.CSS_SELECTOR, ".crmw-panel").rect
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        _shoot(driver, "phone")
