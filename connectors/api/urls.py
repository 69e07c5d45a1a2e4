"""Connector endpoints, included under /api/v1/ by revops.api.urls."""

from rest_framework.routers import SimpleRouter

from connectors.api.views import ConnectorViewSet, SyncRunViewSet

router = SimpleRouter(use_regex_path=False)
router.register("connectors", ConnectorViewSet, basename="connector")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = router.urls
