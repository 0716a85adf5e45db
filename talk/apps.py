from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TalkConfig(AppConfig):
    name = "talk"
    verbose_name = _("Talk")
    default_auto_field = "django.db.models.BigAutoField"
