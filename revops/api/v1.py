"""/api/v1/: every app's endpoints, each included by dotted string so this
package imports none of the apps it serves."""

from django.urls import include, path, register_converter
from django.urls.converters import PathConverter
from rest_framework.routers import SimpleRouter

from revops.api import resources
from revops.api.docs import DocsView, SchemaView
from revops.api.errors import not_found

app_name = "api"


class _Anything(PathConverter):
    """Any non-empty rest of an address, line breaks included (`<path:…>` matches
    none, so an address holding one got Django's HTML 404 page)."""

    regex = r"[\s\S]+"


register_converter(_Anything, "anything")

router = SimpleRouter(use_regex_path=False)
router.register("customers", resources.CustomerViewSet, basename="customer")
router.register("contracts", resources.ContractViewSet, basename="contract")
router.register("invoices", resources.InvoiceViewSet, basename="invoice")
router.register("credit-notes", resources.CreditNoteViewSet, basename="credit-note")
router.register("payments", resources.PaymentViewSet, basename="payment")
router.register("usage", resources.UsageViewSet, basename="usage")
router.register("events", resources.BusinessEventViewSet, basename="event")

urlpatterns = [
    path("schema/", SchemaView.as_view(api_version="1"), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    path("", include("exceptions_queue.api.urls")),
    path("", include("connectors.api.urls")),
    path("", include("reconciliation.api.urls")),
    # Last: any other address under /api/v1/ is a 404 in the error shape, not an HTML page.
    path("<anything:unknown>", not_found, name="not-found"),
]
