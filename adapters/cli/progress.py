"""Progress bars for the long commands (`crm import`, `crm bench`): one rich bar per phase on stderr when
it is a terminal, and nothing at all when it is not (piped, captured, cron) or the command prints JSON, so
scripts read the same clean output as before. The work reports through a plain callback and never
learns whether anyone is watching."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

Report = Callable[[str, int, int], None]  # (phase, done, total); a total of 0 has no count to show


def _unwatched(phase: str, done: int, total: int) -> None:
    """The callback when nobody watches: the work reports, nothing is drawn."""


@contextmanager
def progress_bars(title: str, quiet: bool = False) -> Iterator[Report]:
    """Yields the callback the work reports to; a new phase completes the bar of the phase before it.
    The bars vanish when the block ends, leaving the terminal to the command's own output. They are
    drawn when the work reports, never from a thread of their own, which would steal time from what
    `crm bench` measures."""
    if quiet or not sys.stderr.isatty():
        yield _unwatched
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        auto_refresh=False,
    )
    phases: dict[str, tuple[TaskID, int]] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in phases:
            for earlier, before in phases.values():
                bars.update(earlier, total=before or 1, completed=before or 1)
            phases[phase] = (bars.add_task(f"{title}: {phase}", total=total or None), total)
        task, _ = phases[phase]
        phases[phase] = (task, total)
        bars.update(task, total=total or None, completed=done, refresh=True)

    with bars:
        yield report
