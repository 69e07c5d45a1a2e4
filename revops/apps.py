from django.apps import AppConfig


class RevopsConfig(AppConfig):
    name = "revops"
    verbose_name = "Canonical data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from revops.web.nav import register_nav_item

        register_nav_item("Tax rates", "tax_jurisdiction_list", permission="revops.view_taxjurisdiction")
