from django.apps import AppConfig


class StatementsConfig(AppConfig):
    name = "reconciliation.statements"
    label = "statements"
    verbose_name = "Bank statements"

    def ready(self) -> None:
        from revops.web.nav import register_nav_item

        register_nav_item("Bank", "statements:list", permission="statements.view_bankstatement", order=40)
