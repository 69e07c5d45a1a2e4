"""Exception queue endpoints, included under /api/v1/ by revops.api.urls."""

from rest_framework.routers import SimpleRouter

from exceptions_queue.api.views import BulkActionViewSet, ExceptionItemViewSet

router = SimpleRouter(use_regex_path=False)
router.register("exceptions/bulk", BulkActionViewSet, basename="exception-bulk")
router.register("exceptions", ExceptionItemViewSet, basename="exception")

urlpatterns = router.urls
