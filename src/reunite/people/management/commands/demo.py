"""``reunite demo``: a ready-to-try Reunite with realistic synthetic data, then serve it.

Migrates the database, loads the divisions of China, creates the demo units, one account per
role and (by default) 2,000 missing reports and 5,000 persons of unknown origin — none of them
real — and serves the application.  Running it again adds nothing that is already there.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from reunite.accounts.management.commands.serve import DEFAULT_PORT, DEFAULT_THREADS, serve
from reunite.accounts.models import Division
from reunite.accounts.services import load_divisions, read_china_divisions
from reunite.alerts import demo as alerts_demo
from reunite.dna import demo as dna_demo
from reunite.notify import demo as notify_demo
from reunite.people import demo


class Command(BaseCommand):
    help = "Create realistic synthetic demo data (idempotent) and serve Reunite."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--missing", type=int, default=2000, help="missing reports (2000)")
        parser.add_argument("--found", type=int, default=5000, help="found persons (5000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
        parser.add_argument("--no-serve", action="store_true", help="create the data and stop")
        parser.add_argument("--host", default=None, help="address to serve on (127.0.0.1)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to serve on")
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads (8)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["missing"] < 0 or options["found"] < 0:
            raise CommandError(_("--missing and --found must not be negative."))
        started = time.monotonic()
        self._say(_("Migrating the database …"))
        call_command("migrate", interactive=False, verbosity=0)
        divisions = self._divisions()
        result = demo.seed(
            missing=options["missing"],
            found=options["found"],
            seed=options["seed"],
            progress=self._say,
        )
        notify_demo.seed(seed=options["seed"], progress=self._say)
        alerts_demo.seed(progress=self._say)
        dna_demo.seed(seed=options["seed"], progress=self._say)
        self._say(
            _(
                "Demo data ready in %(s).1f s: %(divisions)d divisions; %(units)d units and "
                "%(users)d accounts added; %(missing)d missing reports (%(missing_new)d new, "
                "one case each), %(found)d persons of unknown origin (%(found_new)d new)."
            )
            % {
                "s": time.monotonic() - started,
                "divisions": divisions,
                "units": result.units_created,
                "users": result.users_created,
                "missing": result.missing_total,
                "missing_new": result.missing_created,
                "found": result.found_total,
                "found_new": result.found_created,
            }
        )
        if options["no_serve"]:
            self._logins(result, None)
            return
        serve(
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            write=self._say,
            on_ready=lambda url: self._logins(result, url),
        )

    def _divisions(self) -> int:
        """Load the divisions of China unless every one of them is there already."""
        have = set(Division.objects.values_list("code", flat=True))
        if have >= {row.code for row in read_china_divisions()}:
            return len(have)
        self._say(_("Loading the divisions of China …"))
        return load_divisions()

    def _logins(self, result: demo.SeedResult, url: str | None) -> None:
        self._say("")
        self._say(_("Demo accounts (all with the password %(pw)s):") % {"pw": demo.DEMO_PASSWORD})
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            self._say(f"  {login.username:<{width}}  {login.role:<26} {login.unit}")
        if result.users_created < len(result.logins):
            self._say(_("  (accounts that existed before keep the password they had)"))
        if url:
            self._say(_("Open %(url)s and sign in.") % {"url": url})
        self._say("")

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
