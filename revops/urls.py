from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Signed vendor webhooks: the only public URL besides login.
    path("webhooks/", include("connectors.webhook_urls")),
    path("connectors/", include("connectors.urls")),
    path("exceptions/", include("exceptions_queue.urls")),
    path("bank/", include("reconciliation.statements.urls")),
    path("reconciliation/", include("reconciliation.urls")),
    path("api/", include("revops.api.urls")),
    path("", include("revops.web.urls")),
]
