"""``reunite alerts tick``: widen every active alert whose next ring is due, expire old ones.

Run it every minute (cron, a systemd timer, or ``--every 60`` in a loop of its own).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunite.alerts import services


class Command(BaseCommand):
    help = "Rapid-search alerts: 'tick' widens the rings that are due and expires old alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        tick = sub.add_parser("tick", help="widen due rings, expire old alerts, redispatch")
        tick.add_argument(
            "--every",
            type=float,
            default=0.0,
            help="keep running, one tick every this many seconds (default: one tick, then stop)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] != "tick":
            raise CommandError("unknown subcommand")
        every = float(options["every"])
        if every < 0 or every != every:
            raise CommandError("--every must be a positive number of seconds")
        while True:
            result = services.tick()
            self.stdout.write(
                f"alerts tick: {result.widened} widened ({result.messages} messages), "
                f"{result.expired} expired, {result.redispatched} redispatched"
            )
            if not every:
                return
            time.sleep(every)
