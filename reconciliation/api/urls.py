"""Reconciliation endpoints, included under /api/v1/ by revops.api.urls."""

from rest_framework.routers import SimpleRouter

from reconciliation.api.views import RunLineViewSet, RunViewSet

router = SimpleRouter(use_regex_path=False)
router.register("reconciliation-runs", RunViewSet, basename="reconciliation-run")
router.register("reconciliation-lines", RunLineViewSet, basename="reconciliation-line")

urlpatterns = router.urls
