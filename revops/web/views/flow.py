"""The Flow page (one quote-to-cash flow, step by step) and the lists of flows
breaching a business SLA."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from revops.models import Contract
from revops.selectors.flow import NoSuchFlow, flow_detail
from revops.selectors.sla import SLAS, WINDOW_DAYS, breach_rows, sla_breaches
from revops.web.decorators import reads
from revops.web.pagination import paginate
from revops.web.views.common import render_page

PERMISSION = "revops.view_businessevent"


def _render(request, correlation_id, contract=None):
    try:
        flow = flow_detail(correlation_id)
    except NoSuchFlow:
        raise Http404("Nothing in revops carries this correlation id.") from None
    return render_page(
        request, "revops/flow/detail.html", {"flow": flow, "contract": contract or flow.contract}
    )


@reads(PERMISSION)
def contract_flow(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("customer"), pk=pk)
    return _render(request, contract.correlation_id, contract)


@reads(PERMISSION)
def flow_page(request, correlation_id):
    return _render(request, correlation_id)


@reads(PERMISSION)
def sla_breach_list(request):
    key = request.GET.get("sla") or next(iter(SLAS))
    sla = SLAS.get(key)
    if sla is None:
        raise Http404(f"There is no SLA called {key!r}; choose one of: {', '.join(SLAS)}.")
    page = paginate(sla_breaches(sla), page=request.GET.get("page"), params={"sla": sla.key})
    page.items = breach_rows(sla, list(page.items))
    context = {"sla": sla, "slas": SLAS.values(), "page": page, "window_days": WINDOW_DAYS}
    return render_page(request, "revops/flow/breaches.html", context, partials={"results": "results"})
