"""The JSON API (django-ninja); OpenAPI at /api/docs.  Each domain adds its router here."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Reunite API", version="1", urls_namespace="api")
