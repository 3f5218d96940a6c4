"""``reunite notify worker [--backend db|redis] [--concurrency N]`` and friends.

- ``worker``: deliver queued messages until stopped (SIGTERM/SIGINT finish the current chunk and
  hand back the rest); ``--until-idle`` stops when nothing is left.
- ``republish``: on Redis, publish again what the database still has as waiting.
- ``stats TOPIC``: delivery statistics per ring, as JSON.
"""

from __future__ import annotations

import json
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunite.notify import queue, services
from reunite.notify.worker import Worker


class Command(BaseCommand):
    help = "Alert dispatch: run a worker, republish to Redis, or print delivery statistics."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        worker = sub.add_parser("worker", help="Deliver queued messages.")
        worker.add_argument("--backend", choices=["db", "redis"], default=None)
        worker.add_argument("--concurrency", type=int, default=1)
        worker.add_argument("--batch-size", type=int, default=None)
        worker.add_argument("--lease-seconds", type=float, default=None)
        worker.add_argument("--until-idle", action="store_true")
        republish = sub.add_parser("republish", help="Publish waiting deliveries to Redis again.")
        republish.add_argument("--older-than", type=float, default=60.0)
        stats = sub.add_parser("stats", help="Delivery statistics of one topic, per ring.")
        stats.add_argument("topic")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "stats":
            self.stdout.write(json.dumps(services.delivery_stats(options["topic"]), indent=2))
            return
        if action == "republish":
            count = queue.RedisQueue().republish_stale(options["older_than"])
            self.stdout.write(f"republished {count}")
            return
        if options["concurrency"] < 1 or options["concurrency"] > 64:
            raise CommandError("--concurrency must be between 1 and 64")
        worker = Worker(
            options["backend"],
            options["concurrency"],
            batch_size=options["batch_size"],
            lease_s=options["lease_seconds"],
        )
        if worker.backend == "redis":
            queue.RedisQueue(lease_s=worker.lease_s).republish_stale(worker.lease_s)

        def stop(signum: int, frame: Any) -> None:
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"notify worker {worker.name}: backend {worker.backend}", ending="\n")
        self.stdout.flush()
        counters = worker.run(until_idle=options["until_idle"])
        self.stdout.write(
            f"delivered {counters.delivered}, failed {counters.failed}, "
            f"handed back {counters.released}"
        )
