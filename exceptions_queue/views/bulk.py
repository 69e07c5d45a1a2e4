"""Bulk actions from the queue: confirm how many items will change, then follow
the background task's progress.

The queue page sends `action` and either the ticked `ids` or `scope=filter`
with its filter parameters. The confirmation page says how many items will
change (only those the action can apply to); confirming fixes that set and
starts the action, which refuses to start if the count moved meanwhile.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from exceptions_queue import bulk
from exceptions_queue.filters import describe_filter, filter_queue
from exceptions_queue.models import BulkAction, ExceptionItem
from exceptions_queue.routing_forms import BulkActionForm
from revops.actors import Actor
from revops.web.decorators import edits, reads
from revops.web.views.common import render_page

MAX_TICKED = 1000  # ticked boxes travel in the URL; more than a few pages is a filter's job
VERBS = {"assign": "Assign", "resubmit": "Resubmit", "dismiss": "Dismiss"}


class BadSelection(ValueError):
    pass


def _selection(params: QueryDict, user):
    """(items queryset, description, query string to come back to the queue)."""
    if params.get("scope") == "filter":
        query = _filter_query(params)
        items, form = filter_queue(query, user=user)
        if form.errors:
            raise BadSelection("The queue's filter has errors; fix it on the queue page first.")
        return items, f"All items matching: {describe_filter(form)}", query.urlencode()
    try:
        ids = sorted({int(value) for value in params.getlist("ids")})
    except ValueError:
        raise BadSelection("The selection names items that do not exist.") from None
    if not ids:
        raise BadSelection("Tick the items to change, or choose “select all matching”.")
    if len(ids) > MAX_TICKED:
        raise BadSelection(
            f"At most {MAX_TICKED:,} ticked items at once; use “select all matching” with a filter."
        )
    return (
        ExceptionItem.objects.filter(pk__in=ids),
        f"{len(ids)} ticked item{'s' if len(ids) != 1 else ''}",
        "",
    )


@edits("exceptions_queue.add_bulkaction")
def bulk_confirm(request):
    params = request.POST if request.method == "POST" else request.GET
    action = params.get("action", "")
    if action not in VERBS:
        return HttpResponseBadRequest("Choose a bulk action: assign, resubmit or dismiss.")
    if not request.user.has_perm("exceptions_queue.change_exceptionitem"):
        raise PermissionDenied("You may not change exception items.")
    try:
        items, description, back_query = _selection(params, request.user)
    except BadSelection as exc:
        messages.error(request, str(exc))
        back = _filter_query(params).urlencode() if params.get("scope") == "filter" else ""
        return redirect(f"{reverse('exceptions_queue:list')}{'?' + back if back else ''}")
    eligible = bulk.eligible(action, items)
    count = eligible.count()
    selected = items.count()
    form = BulkActionForm(
        request.POST if request.method == "POST" else None, action=action, initial={"expected_count": count}
    )
    if request.method == "POST" and form.is_valid():
        try:
            started = bulk.bulk_action_start(
                action=action,
                items=items,
                params=form.cleaned_data,
                actor=Actor.for_user(request.user),
                filter_description=description,
                expected_count=form.cleaned_data["expected_count"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return redirect("exceptions_queue:bulk_detail", pk=started.pk)
    context = {
        "form": form,
        "action": action,
        "verb": VERBS[action],
        "count": count,
        "not_eligible": selected - count,
        "description": description,
        "sample": list(eligible.select_related("assignee", "team").order_by("-last_seen_at", "-id")[:10]),
        "hidden": _hidden_selection(params),
        "back_url": f"{reverse('exceptions_queue:list')}{'?' + back_query if back_query else ''}",
    }
    return render(request, "exceptions_queue/bulk/confirm.html", context, status=400 if form.errors else 200)


def _filter_query(params: QueryDict) -> QueryDict:
    """The queue filter: sent along from the queue page, or kept in `query` by the confirmation."""
    if "query" in params:
        return QueryDict(params["query"])
    query = params.copy()
    for name in ("action", "scope", "ids", "csrfmiddlewaretoken", "page"):
        query.pop(name, None)
    return query


def _hidden_selection(params: QueryDict) -> list[tuple[str, str]]:
    """The selection as hidden inputs, so confirming sends the same one back."""
    pairs = [("action", params.get("action", ""))]
    if params.get("scope") == "filter":
        pairs += [("scope", "filter"), ("query", _filter_query(params).urlencode())]
    else:
        pairs += [("ids", value) for value in params.getlist("ids")]
    return pairs


@reads("exceptions_queue.view_bulkaction")
def bulk_detail(request, pk: int):
    action = get_object_or_404(BulkAction.objects.select_related("created_by"), pk=pk)
    return render_page(
        request, "exceptions_queue/bulk/detail.html", {"bulk": action}, partials={"bulk-progress": "progress"}
    )


@reads("exceptions_queue.view_bulkaction")
def bulk_list(request):
    actions = BulkAction.objects.select_related("created_by").order_by("-created_at", "-id")[:100]
    return render(request, "exceptions_queue/bulk/list.html", {"actions": actions})
