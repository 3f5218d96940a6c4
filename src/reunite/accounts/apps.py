from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "reunite.accounts"
    verbose_name = _("Accounts and jurisdictions")

    def ready(self) -> None:
        from reunite.accounts import signals  # noqa: F401  (connects the sign-in audit receivers)
