"""Payments: list, and detail with applications to invoices and History."""

from __future__ import annotations

from django.http import Http404

from revops.models import Payment
from revops.selectors.history import object_history
from revops.selectors.payments import payment_detail as load_payment
from revops.selectors.payments import payment_list as payments_matching
from revops.web.decorators import reads
from revops.web.forms import PaymentFilterForm
from revops.web.views.common import list_page, render_page


@reads("revops.view_payment")
def payment_list(request):
    form = PaymentFilterForm(request.GET)
    kwargs = form.selector_kwargs()
    return list_page(
        request,
        "revops/payments/list.html",
        form=form,
        queryset=payments_matching(**kwargs),
        sort=kwargs["sort"],
    )


def _detail(request, pk: int, tab: str):
    try:
        detail = load_payment(pk)
    except Payment.DoesNotExist:
        raise Http404("No payment with this id.") from None
    context = {"detail": detail, "payment": detail.payment, "tab": tab}
    if tab == "history":
        context["history"] = object_history(detail.payment)
    return render_page(request, "revops/payments/detail.html", context, partials={"tab-panel": tab})


@reads("revops.view_payment")
def payment_detail(request, pk: int):
    return _detail(request, pk, "overview")


@reads("revops.view_payment")
def payment_history(request, pk: int):
    return _detail(request, pk, "history")
