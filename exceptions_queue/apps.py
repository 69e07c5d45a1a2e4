from django.apps import AppConfig


class ExceptionsQueueConfig(AppConfig):
    name = "exceptions_queue"
    verbose_name = "Exception queue"

    def ready(self) -> None:
        from revops.web.nav import register_nav_item

        register_nav_item(
            "Exceptions", "exceptions_queue:list", permission="exceptions_queue.view_exceptionitem", order=10
        )
        from exceptions_queue.selectors import dashboard_tiles
        from revops.selectors.dashboard import register_tiles

        register_tiles(dashboard_tiles, order=10)
        from exceptions_queue.flow import items_for_correlation
        from revops.selectors.flow_sources import register_flow_source

        register_flow_source("exceptions", items_for_correlation)
