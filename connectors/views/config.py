"""Connectors list and detail, and the add / edit / delete forms (Integration Admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from connectors import selectors
from connectors.base import get_kind, registered_kinds
from connectors.errors import ConnectorError
from connectors.forms import ConnectorForm
from connectors.models import Connector
from connectors.services import connector_delete, connector_save
from revops.actors import Actor
from revops.models import LegalEntity
from revops.web.decorators import edits, reads
from revops.web.forms import ReasonForm
from revops.web.pagination import paginate
from revops.web.views.common import render_page

FORM_TEMPLATE = "connectors/form.html"
RUNS_PER_PAGE = 25


def _permissions(user) -> dict[str, bool]:
    return {
        "can_add": user.has_perm("connectors.add_connector"),
        "can_change": user.has_perm("connectors.change_connector"),
        "can_delete": user.has_perm("connectors.delete_connector"),
        "can_run": user.has_perm("connectors.run_connector"),
    }


@reads("connectors.view_connector")
def connector_list(request):
    context = {"rows": selectors.connector_list(), **_permissions(request.user)}
    return render(request, "connectors/list.html", context)


@reads("connectors.view_connector")
def connector_detail(request, pk: int):
    try:
        detail = selectors.connector_detail(pk)
    except Connector.DoesNotExist:
        raise Http404("No connector with this id.") from None
    page = paginate(
        selectors.run_list(detail.connector),
        page=request.GET.get("page"),
        params={k: v for k, v in request.GET.items() if v != ""},
        per_page=RUNS_PER_PAGE,
    )
    path = selectors.webhook_url(detail.connector)
    context = {
        "detail": detail,
        "connector": detail.connector,
        "page": page,
        "webhook_url": request.build_absolute_uri(path) if path else "",
        **_permissions(request.user),
    }
    return render_page(request, "connectors/detail.html", context, partials={"results": "results"})


def _save(request, form: ConnectorForm, connector: Connector | None):
    try:
        saved = connector_save(
            actor=Actor.for_user(request.user),
            reason=form.cleaned_data["reason"],
            connector=connector,
            values=form.values(),
            credentials=form.credentials(),
            webhook_secret=form.webhook_secret(),
        )
    except ValidationError as error:
        form.add_service_error(error)
        return None
    except ConnectorError as error:  # e.g. stored secrets unreadable with the current keys
        form.add_error(None, error.message)
        return None
    verb = "Added" if connector is None else "Saved"
    messages.success(request, f"{verb} connector {saved.name}.")
    return redirect("connectors:detail", pk=saved.pk)


def _form_page(request, form, *, title: str, action: str, connector=None, kind=None):
    context = {
        "form": form,
        "title": title,
        "action": action,
        "connector": connector,
        "kind": selectors.kind_info(kind),
    }
    return render(request, FORM_TEMPLATE, context, status=400 if request.method == "POST" else 200)


@edits("connectors.add_connector")
def connector_add(request):
    """Pick a kind (a link per kind), then fill in that kind's form."""
    key = request.GET.get("kind", "")
    try:
        kind = get_kind(key) if key else None
    except LookupError:
        kind = None
    if kind is None:
        context = {"kinds": [selectors.kind_info(k) for k in registered_kinds()], "unknown": key}
        return render(
            request, "connectors/pick_kind.html", context, status=400 if request.method == "POST" else 200
        )
    entities = list(LegalEntity.objects.values_list("pk", flat=True)[:2])
    initial = {"enabled": True, "legal_entity": entities[0] if len(entities) == 1 else None}
    form = ConnectorForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, None)
        if response:
            return response
    return _form_page(request, form, title=f"Add {kind.label} connector", action="Add connector", kind=kind)


@edits("connectors.change_connector")
def connector_edit(request, pk: int):
    connector = get_object_or_404(Connector.objects.select_related("legal_entity"), pk=pk)
    kind = selectors.kind_of(connector)
    if kind is None:
        messages.error(
            request, f"{connector.name} is of kind {connector.kind!r}, which this installation does not have."
        )
        return redirect("connectors:detail", pk=pk)
    form = ConnectorForm(request.POST or None, kind=kind, connector=connector)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, connector)
        if response:
            return response
    context_title = f"Edit connector {connector.name}"
    return _form_page(
        request, form, title=context_title, action="Save connector", connector=connector, kind=kind
    )


@edits("connectors.delete_connector")
def connector_delete_view(request, pk: int):
    connector = get_object_or_404(Connector, pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = connector.name
        try:
            connector_delete(
                connector=connector, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"]
            )
        except ProtectedError as error:
            blockers = sorted({obj._meta.verbose_name_plural for obj in error.protected_objects})
            form.add_error(None, f"{name} cannot be deleted while {', '.join(blockers)} refer to it.")
        else:
            messages.success(request, f"Deleted connector {name}, its runs and its stored records.")
            return redirect("connectors:list")
    context = {
        "form": form,
        "connector": connector,
        "runs": connector.runs.count(),
        "records": connector.inbound.count(),
    }
    return render(request, "connectors/delete.html", context, status=400 if request.method == "POST" else 200)
