"""URL map: web pages per domain, the JSON API under /api/, language switching."""

from django.urls import include, path

from reunite.api import api
from reunite.views import home, home_counts

urlpatterns = [
    path("", home, name="home"),
    path("home/counts/", home_counts, name="home_counts"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("reunite.accounts.urls")),
    path("people/", include("reunite.people.urls")),
    path("cases/", include("reunite.cases.urls")),
    path("dna/", include("reunite.dna.urls")),
    path("alerts/", include("reunite.alerts.urls")),
    path("notify/", include("reunite.notify.urls")),
    path("audit/", include("reunite.audit.urls")),
    path("api/", api.urls),
]
