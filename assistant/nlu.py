"""The assistant's parser: built on the store's names, refreshed when they change."""

from __future__ import annotations

from assistant.runtime import Runtime
from assistant.store_names import StoreNames
from intents.parser import Parser


def store_parser(runtime: Runtime) -> Parser:
    runtime.ensure_schema()
    return Parser.build(StoreNames(runtime.sessions))
