"""One outbox worker as its own process, for test_workers.py: the real dispatch loop (run_scheduler,
dispatch only) on a recording channel that takes `--delay` seconds per send, until SIGTERM.

python tests/reminders/worker_process.py URL WORKER_ID [--lease S] [--batch N] [--delay S]
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistant.channels import Outgoing, Registry, StoreChannel
from assistant.outbox import Dispatcher
from assistant.reminders import run_scheduler
from assistant.runtime import Runtime


class SlowRecording(StoreChannel):
    """The recording channel with the latency of a real platform, so a kill lands mid-batch."""

    delay: float = 0.0

    def deliver(self, message: Outgoing, session: Session) -> None:
        time.sleep(self.delay)
        super().deliver(message, session)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("worker")
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.005)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    channel = SlowRecording("recording")
    channel.delay = args.delay
    registry = Registry(fallback="recording")
    registry.register(channel)
    runtime = Runtime(args.url, ZoneInfo("UTC"))
    dispatcher = Dispatcher(
        runtime, registry, worker=args.worker, batch=args.batch, lease=timedelta(seconds=args.lease)
    )
    print("ready", flush=True)
    run_scheduler(runtime, stop, args.interval, channels=registry, dispatcher=dispatcher, enqueue_items=False)
    runtime.close()


if __name__ == "__main__":
    main()
