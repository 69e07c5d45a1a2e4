"""A sync run with what became of each record it read, and one stored record."""

from __future__ import annotations

from django.http import Http404

from connectors import selectors
from connectors.forms import OutcomeFilterForm
from connectors.models import InboundRecord, SyncRun
from revops.web.decorators import reads
from revops.web.pagination import paginate
from revops.web.views.common import render_page


@reads("connectors.view_syncrun")
def run_detail(request, pk: int):
    try:
        detail = selectors.run_detail(pk)
    except SyncRun.DoesNotExist:
        raise Http404("No sync run with this id.") from None
    form = OutcomeFilterForm(request.GET)
    outcome = form.outcome_value()
    page = paginate(
        selectors.run_records(detail.run, outcome=outcome),
        page=request.GET.get("page"),
        params={k: v for k, v in request.GET.items() if v != ""},
    )
    page.items = selectors.describe_records(page.items)
    context = {
        "detail": detail,
        "run": detail.run,
        "connector": detail.run.connector,
        "page": page,
        "outcome": outcome,
        "outcomes": [
            (key, label, detail.outcome_counts[key])
            for key, label in InboundRecord.Outcome.choices
            if detail.outcome_counts[key]
        ],
        "can_run": request.user.has_perm("connectors.run_connector"),
    }
    return render_page(request, "connectors/run_detail.html", context, partials={"results": "results"})


@reads("connectors.view_inboundrecord")
def record_detail(request, pk: int):
    try:
        detail = selectors.record_detail(pk)
    except InboundRecord.DoesNotExist:
        raise Http404("No stored record with this id.") from None
    context = {
        "detail": detail,
        "record": detail.record,
        "connector": detail.record.connector,
        "can_run": request.user.has_perm("connectors.run_connector"),
    }
    return render_page(request, "connectors/record_detail.html", context)
