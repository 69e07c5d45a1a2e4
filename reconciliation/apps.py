from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        from exceptions_queue.registry import register_resubmit_handler
        from reconciliation.breaks import STEP_KEY
        from reconciliation.dashboard import dashboard_tiles
        from reconciliation.resubmit import resubmit_break
        from revops.selectors.dashboard import register_tiles
        from revops.web.nav import register_nav_item

        register_resubmit_handler(STEP_KEY, resubmit_break)
        register_tiles(dashboard_tiles, order=60)
        register_nav_item(
            "Reconciliation", "reconciliation:list", permission="reconciliation.view_reconciliation", order=60
        )
