"""``reunite load_divisions``: load (or refresh) the real administrative divisions of China."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from reunite.accounts.services import load_divisions


class Command(BaseCommand):
    help = "Load or refresh the administrative divisions of China (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_divisions()
        self.stdout.write(f"{count} divisions loaded.")
