"""The ``reunite`` command: every Django management command, plus Reunite's own.

``reunite serve``, ``reunite demo``, ``reunite migrate``, ``reunite audit verify`` … are all
management commands, so the same code answers ``python -m reunite`` and ``django-admin``.
``reunite kinship ...`` is the exception: it goes to :mod:`reunite.kinship.cli` without Django.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["kinship"]:
        # The kinship engine is a pure library: no Django set-up, no database, a fast start.
        from reunite.kinship.cli import main as kinship_main

        sys.exit(kinship_main(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["reunite", *args])


if __name__ == "__main__":
    main()
