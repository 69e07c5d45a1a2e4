"""ERP pages of a connector: its postings (readers) and its field mapping (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from connectors.erp.forms import ErpMappingForm
from connectors.erp.services import erp_mapping_save
from connectors.models import Connector, ErpMapping, OutboundPosting
from revops.actors import Actor
from revops.web.decorators import edits, reads
from revops.web.pagination import paginate
from revops.web.views.common import render_page

PER_PAGE = 50


@reads("connectors.view_connector")
def erp_postings(request, pk: int):
    connector = get_object_or_404(Connector, pk=pk)
    status = request.GET.get("status", "")
    if status and status not in OutboundPosting.Status.values:
        status = ""  # an unknown status filters nothing rather than failing
    postings = OutboundPosting.objects.filter(connector=connector).order_by("-created_at", "-id")
    if status:
        postings = postings.filter(status=status)
    params = {"status": status} if status else {}
    page = paginate(postings, page=request.GET.get("page"), params=params, per_page=PER_PAGE)
    counts = _counts(connector)
    context = {
        "connector": connector,
        "page": page,
        "status": status,
        "statuses": [(value, label, counts.get(value, 0)) for value, label in OutboundPosting.Status.choices],
    }
    return render_page(
        request, "connectors/erp_postings.html", context, partials={"erp-postings": "postings"}
    )


def _counts(connector: Connector) -> dict[str, int]:
    rows = OutboundPosting.objects.filter(connector=connector).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows.order_by()}


@edits("connectors.change_connector")
def erp_mapping_edit(request, pk: int):
    connector = get_object_or_404(Connector, pk=pk)
    mapping = ErpMapping.objects.filter(connector=connector).first()
    form = ErpMappingForm.for_mapping(mapping, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erp_mapping_save(
                connector=connector,
                values=form.values(),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"ERP mapping of {connector.name} saved.")
            return redirect("connectors:erp_postings", pk=connector.pk)
    return render(
        request,
        "connectors/erp_mapping_form.html",
        {"connector": connector, "form": form, "mapping": mapping},
        status=400 if form.errors else 200,
    )
