from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "reunite.alerts"
    label = "alerts"
    verbose_name = _("Rapid-search alerts")

    def ready(self) -> None:
        # A mistyped ring list or URL stops the process at start, not an alert mid-search.
        from reunite.alerts import policy

        policy.current()
