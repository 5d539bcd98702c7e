"""`crm serve --processes N` when its supervisor is killed outright (SIGKILL, the OOM killer): the copies
end too, as on Ctrl-C, and free the shared port, instead of answering on as orphans beside the next
`crm serve`. Real processes: the supervisor, its copies, the Slack HTTP endpoint on a fake Slack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from load import listening_sockets
from slack_world import PEOPLE
from test_slack_processes import children, serving
from test_slack_serve import CRM, environment, free_port
from watching import until

from adapters.cli.supervisor import dying_with
from assistant.runtime import Runtime

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    yield slack
    slack.close()


def running(pid: int) -> bool:
    """Whether `pid` is a process that still runs (an unreaped zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def ended(pids: list[int], timeout: float) -> bool:
    """Whether every one of `pids` has ended within `timeout` seconds."""
    return until(lambda: not any(running(pid) for pid in pids), timeout)


def test_the_copies_end_when_their_supervisor_is_killed(
    runtime: Runtime, fake: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:  # files: the orphans-to-be hold them too
        supervisor = subprocess.Popen(
            [*CRM, "serve", "--slack", "--processes", "2", "--db", runtime.database_url, "--interval", "60"],
            env=environment(fake, CRM_SLACK_PORT=str(port)),
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    pids: list[int] = []
    try:
        pids = children(supervisor)
        assert serving(port, pids), "both copies are up on the shared port"

        supervisor.kill()
        supervisor.wait(timeout=10)

        assert ended(pids, timeout=10), "the copies end with their supervisor"
        assert not listening_sockets(port), "and the port is free for the next crm serve"
    finally:
        for pid in pids:  # never leave an orphan behind a failed test
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
    said, warned = out.read_text(), err.read_text()
    assert said.count("Stopped.") == 2, f"each copy stopped as on Ctrl-C (SIGTERM), not killed: {said}"
    assert "Traceback" not in warned
    # kept on SQLite, with a warning: correct (each event is answered once) but its writes take turns
    assert ("SQLite takes one writer at a time" in warned) == runtime.database_url.startswith("sqlite")


def test_a_copy_whose_supervisor_died_before_it_could_ask_ends_at_once() -> None:
    """The race PR_SET_PDEATHSIG leaves: a supervisor that died between the fork and the prctl sends no
    signal, so the copy checks that its parent is still the supervisor and ends itself if not."""
    someone_else = os.getppid()  # not the parent of the child started below
    orphan = subprocess.run(
        [sys.executable, "-c", "print('ran')"],
        preexec_fn=dying_with(someone_else),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (orphan.returncode, orphan.stdout) == (1, "")

    child = subprocess.run(
        [sys.executable, "-c", "print('ran')"],
        preexec_fn=dying_with(os.getpid()),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (child.returncode, child.stdout) == (0, "ran\n")
