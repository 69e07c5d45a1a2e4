from importlib import import_module

from django.apps import AppConfig

# Each connector kind's module registers its ConnectorKind subclass on import.
KIND_MODULES: tuple[str, ...] = ("connectors.stripe.kind", "connectors.files.kind", "connectors.avalara.kind")


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        from connectors.base import registered_kinds
        from connectors.resubmit import register_kind_handlers

        for module in KIND_MODULES:
            import_module(module)
        for kind in registered_kinds():
            register_kind_handlers(kind)
        from revops.web.nav import register_nav_item

        register_nav_item("Connectors", "connectors:list", permission="connectors.view_connector")
