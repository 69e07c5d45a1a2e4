"""Invoices: list, and detail with lines, credits, applications and History."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from revops.models import Invoice
from revops.selectors.history import object_history
from revops.selectors.invoices import invoice_detail as load_invoice
from revops.selectors.invoices import invoice_list as invoices_matching
from revops.web.decorators import reads
from revops.web.forms import InvoiceFilterForm
from revops.web.views.common import list_page, render_page


@reads("revops.view_invoice")
def invoice_list(request):
    form = InvoiceFilterForm(request.GET)
    kwargs = form.selector_kwargs(today=timezone.localdate())
    return list_page(
        request,
        "revops/invoices/list.html",
        form=form,
        queryset=invoices_matching(**kwargs),
        sort=kwargs["sort"],
    )


def _detail(request, pk: int, tab: str):
    try:
        detail = load_invoice(pk)
    except Invoice.DoesNotExist:
        raise Http404("No invoice with this id.") from None
    context = {"detail": detail, "invoice": detail.invoice, "tab": tab}
    if tab == "history":
        context["history"] = object_history(detail.invoice)
    return render_page(request, "revops/invoices/detail.html", context, partials={"tab-panel": tab})


@reads("revops.view_invoice")
def invoice_detail(request, pk: int):
    return _detail(request, pk, "overview")


@reads("revops.view_invoice")
def invoice_history(request, pk: int):
    return _detail(request, pk, "history")
