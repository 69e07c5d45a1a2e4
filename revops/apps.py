from django.apps import AppConfig


class RevopsConfig(AppConfig):
    name = "revops"
    verbose_name = "Canonical data"
    default_auto_field = "django.db.models.BigAutoField"
