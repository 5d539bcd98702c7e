"""The voice tests' demo store and parser, one per test module."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import pytest
from spoken_set import NOW_ARGS

from adapters.cli.main import main
from adapters.voice.transcriber import CACHE_ENV
from assistant.nlu import store_parser
from assistant.runtime import Runtime
from intents.parser import Parser


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo store, and one voice cache for the module: the model is built once."""
    folder = tmp_path_factory.mktemp("voice")
    url = f"sqlite:///{folder}/voice.sqlite3"
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.setenv(CACHE_ENV, str(folder / "cache"))
        assert main(["--db", url, *NOW_ARGS, "demo"]) == 0
        yield url


@pytest.fixture(scope="module")
def parser(demo_db: str) -> Iterator[Parser]:
    runtime = Runtime.from_settings(demo_db, "UTC", "2026-11-23T09:00")
    yield store_parser(runtime)
    runtime.close()
