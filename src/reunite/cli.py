"""The ``reunite`` command: every Django management command, plus Reunite's own.

``reunite serve``, ``reunite demo``, ``reunite migrate``, ``reunite audit verify`` … are all
management commands, so the same code answers ``python -m reunite`` and ``django-admin``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["reunite", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
