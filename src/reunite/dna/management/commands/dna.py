"""``reunite dna compare --all`` (the comparison battle) and ``reunite dna searches``.

``compare --all [--threshold X] [--dask local|tcp://HOST:8786] [--fresh]`` compares every
family with every unidentified profile: a progress bar with rate and ETA on stderr, every core
(the engine's numba threads) or a Dask cluster, resumable (an interrupted or failed run with
the same parameters is taken up where its last checkpoint left it; ``--fresh`` starts anew).
Exit status 0 when finished, 1 on an error (one line on stderr; the run stays resumable), 130
on Ctrl-C.

``searches [--retry-failed] [--limit N]`` works off pending incremental searches (profiles saved
while ``DNA_MATCH_SEARCH_MODE`` was ``off``, or left by a process that stopped); with
``--retry-failed`` the failed ones of still searchable profiles are queued again first.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunite.core.errors import DomainError
from reunite.dna import battle, matching


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressBar:
    """One line on stderr, redrawn in place on a terminal, one line per chunk otherwise."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, progress: battle.Progress) -> None:
        filled = int(progress.fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"[{bar}] {progress.percent:3d}% chunks {progress.chunks_done}/"
            f"{progress.chunks_total}  pairs {progress.pairs_done:,}/{progress.pairs_total:,}  "
            f"{progress.pairs_per_second:,.0f} pairs/s  ETA {_fmt_seconds(progress.eta_seconds)}"
            f"  candidates {progress.candidates}"
        )
        if self.tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "DNA matching: 'compare --all' runs the comparison battle; 'searches' works off "
    "pending incremental searches."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        compare = sub.add_parser("compare", help="compare every family with every unknown")
        compare.add_argument("--all", action="store_true", dest="all", help="the whole database")
        compare.add_argument("--threshold", type=float, default=None, help="LR threshold")
        compare.add_argument("--dask", default=None, help="'local' or tcp://HOST:8786")
        compare.add_argument(
            "--fresh", action="store_true", help="start a new run instead of resuming"
        )
        searches = sub.add_parser("searches", help="work off pending incremental searches")
        searches.add_argument("--limit", type=int, default=None)
        searches.add_argument(
            "--retry-failed",
            action="store_true",
            help="queue the failed searches of still searchable profiles again first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "searches":
            if options["retry_failed"]:
                retried = matching.retry_failed(acting_user=None)
                self.stdout.write(f"{retried} failed search request(s) queued again")
            done = matching.process_pending(options["limit"])
            backlog = matching.search_backlog()
            self.stdout.write(
                f"{done} search request(s) worked off; {backlog.pending} pending, "
                f"{backlog.failed} failed"
                + (f" (last: {backlog.last_error_kind})" if backlog.failed else "")
            )
            return
        if not options["all"]:
            raise CommandError("say --all: the battle compares the whole database")
        try:
            executor = battle.make_executor(dask=options["dask"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        stream: TextIO = getattr(self.stderr, "_out", sys.stderr)
        bar = ProgressBar(stream)
        try:
            try:
                run = battle.start_run(
                    acting_user=None,
                    threshold=options["threshold"],
                    trigger="cli",
                    backend=executor.description,
                    fresh=options["fresh"],
                )
            except DomainError as exc:
                message = exc.message
                if exc.field_errors:
                    message = "; ".join(
                        f"{name}: {m}" for name, ms in exc.field_errors.items() for m in ms
                    )
                raise CommandError(message) from None
            done = len(run.chunks_done)
            if done:
                self.stderr.write(
                    f"resuming comparison run {run.pk}: {done} of {run.chunks_total} chunks done"
                )
            else:
                self.stderr.write(
                    f"comparison run {run.pk}: {run.families} families in {run.chunks_total} "
                    f"chunk(s) on {executor.description}"
                )
            started = time.monotonic()
            try:
                run = battle.execute_run(run.pk, executor, on_progress=bar)
            except KeyboardInterrupt:
                bar.close()
                self.stderr.write(
                    f"interrupted: comparison run {run.pk} saved its checkpoint; run the same "
                    "command again to resume"
                )
                sys.exit(130)
            except Exception as exc:
                bar.close()
                raise CommandError(
                    f"comparison run {run.pk} failed ({type(exc).__name__}: {exc}); it resumes "
                    "from its last checkpoint on the next start"
                ) from None
            bar.close()
            self.stdout.write(
                f"comparison run {run.pk} finished: {run.families} families x {run.unknowns} "
                f"unidentified profiles, {run.pairs:,} pairs, {run.candidates} new candidate(s), "
                f"{run.families_skipped} family(ies) skipped, "
                f"{time.monotonic() - started:.1f} s"
            )
        finally:
            executor.close()
