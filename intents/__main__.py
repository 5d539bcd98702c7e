"""`python -m intents`: builds (or finds) the cached intent model; `make install` runs it.

On a terminal, training shows a progress bar (on stderr); piped, only the one-line summary is printed.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from intents.classifier import build_model, load_classifier, model_dir


def _build_with_progress(console: Console) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("training the intent model (epochs)", total=None)

        def on_epoch(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        build_model(on_epoch)


def main() -> None:
    began = time.perf_counter()
    console = Console(stderr=True)
    if console.is_terminal and sys.stdout.isatty():
        _build_with_progress(console)
    load_classifier()
    print(f"intent model ready in {model_dir()} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
