"""`python -m intents` (what `make model` runs): piped, it prints only its one-line summary."""

from __future__ import annotations

import subprocess
import sys

from intents.parser import Parser


def test_piped_it_prints_one_line_and_no_progress(parser: Parser) -> None:
    # the parser fixture has built the model, so this finds it in the cache
    done = subprocess.run(
        [sys.executable, "-m", "intents"], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("intent model ready in "), done.stdout
