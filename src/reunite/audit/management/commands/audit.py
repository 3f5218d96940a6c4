"""``reunite audit verify``: walk the hash chain and report any tampering."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reunite.audit import services


class Command(BaseCommand):
    help = "Audit log tools: 'verify' checks the hash chain end to end."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="verify the audit hash chain")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            result = services.verify()
            if not result.ok:
                for problem in result.problems:
                    self.stderr.write(f"TAMPERED: {problem}")
                raise CommandError(f"audit chain broken ({len(result.problems)} problem(s))")
            self.stdout.write(
                f"audit chain intact: {result.entries} entries, head {result.head_hash}"
            )
