from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DnaConfig(AppConfig):
    name = "reunite.dna"
    label = "dna"
    verbose_name = _("DNA registry")
    default_auto_field = "django.db.models.BigAutoField"
