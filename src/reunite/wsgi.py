"""WSGI entry point (``waitress``/``gunicorn reunite.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunite.settings")
application = get_wsgi_application()
