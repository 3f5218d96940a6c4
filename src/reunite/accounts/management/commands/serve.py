"""``reunite serve``: run Reunite under waitress, a production WSGI server in pure Python.

Static files come through WhiteNoise (already in ``MIDDLEWARE``): in the embedded mode it finds
them in the apps (``WHITENOISE_USE_FINDERS``), so nothing needs collecting; in production they
must have been collected (``reunite collectstatic``) first.  The server listens on the loopback
interface unless ``--host`` names another address, and never on the network while ``DEBUG`` is on.
"""

from __future__ import annotations

import ipaddress
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_THREADS = 8


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str | None) -> str:
    """The address to listen on: loopback unless the operator named one.

    A network address exposes the service, so it must be asked for explicitly and never with
    ``DEBUG`` on (its error pages show settings and source code).
    """
    if host is None:
        return DEFAULT_HOST
    if not is_loopback(host) and settings.DEBUG:
        raise CommandError(
            _("Refusing to listen on %(host)s with DEBUG on: turn DEBUG off first.")
            % {"host": host}
        )
    return host


def _unapplied_migrations() -> int:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    *,
    host: str | None,
    port: int,
    threads: int,
    write: Callable[[str], None],
    trusted_proxy: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Listen and serve until interrupted (Ctrl-C or SIGTERM)."""
    from waitress import create_server

    bind = check_bind(host)
    if not 1 <= threads <= 256:
        raise CommandError(_("--threads must be between 1 and 256."))
    if settings.PRODUCTION and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        raise CommandError(_("Static files are not collected: run 'reunite collectstatic' first."))
    if not settings.PRODUCTION:
        # WhiteNoise finds the files in the apps, but expects STATIC_ROOT to exist.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from reunite.wsgi import application

    pending = _unapplied_migrations()
    if pending:
        write(
            _("Warning: %(n)d database migration(s) not applied; run 'reunite migrate'.")
            % {"n": pending}
        )
    options: dict[str, Any] = {
        "host": bind,
        "port": port,
        "threads": threads,
        "ident": "Reunite",
    }
    if trusted_proxy:
        options["trusted_proxy"] = trusted_proxy
        options["trusted_proxy_headers"] = {"x-forwarded-for", "x-forwarded-proto"}
    try:
        server = create_server(application, **options)
    except OSError as exc:
        raise CommandError(
            _("Cannot listen on %(host)s port %(port)d: %(error)s")
            % {"host": bind, "port": port, "error": exc.strerror or exc}
        ) from exc
    url = _url(bind, server.effective_port)
    write(_("Reunite is serving at %(url)s  (press Ctrl-C to stop)") % {"url": url})
    if not is_loopback(bind):
        write(
            _("Requests are answered only for the host names in ALLOWED_HOSTS: %(hosts)s")
            % {"hosts": ", ".join(settings.ALLOWED_HOSTS) or "-"}
        )
    if on_ready is not None:
        on_ready(url)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM through _stop)
    finally:
        server.close()
        signal.signal(signal.SIGTERM, previous)
    write(_("Stopped."))


class Command(BaseCommand):
    help = "Serve Reunite with the waitress WSGI server (static files through WhiteNoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=None,
            help=f"address to listen on (default {DEFAULT_HOST}; others only when named here)",
        )
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (0: any)")
        parser.add_argument(
            "--threads", type=int, default=DEFAULT_THREADS, help="worker threads (default 8)"
        )
        parser.add_argument(
            "--trusted-proxy",
            default=None,
            help="address of a reverse proxy whose X-Forwarded-For/-Proto headers are trusted",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve(
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            trusted_proxy=options["trusted_proxy"],
            write=self._say,
        )

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
