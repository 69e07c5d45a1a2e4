from importlib import import_module

from django.apps import AppConfig

# Each connector kind's module registers its ConnectorKind subclass on import.
KIND_MODULES: tuple[str, ...] = (
    "connectors.stripe.kind",
    "connectors.files.kind",
    "connectors.avalara.kind",
    "connectors.erp.kind",
)
KIND_MODULES += ("connectors.hubspot.kind",)
KIND_MODULES += ("connectors.metering.kind",)


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
        from connectors import posting
        from exceptions_queue.registry import register_resubmit_handler
        from revops.services.event_listeners import register_event_listener

        register_event_listener(posting.on_business_event)
        register_resubmit_handler(posting.STEP_KEY, posting.resubmit_posting)
        from connectors.avalara import commits

        register_event_listener(commits.on_business_event)
        register_resubmit_handler(commits.STEP_KEY, commits.resubmit_step)
        from revops.web.nav import register_nav_item

        register_nav_item("Connectors", "connectors:list", permission="connectors.view_connector")
        from connectors import flow
        from revops.selectors.flow_sources import register_flow_source

        register_flow_source("postings", flow.postings_for)
        register_flow_source("erp_backlog", flow.invoices_waiting)
