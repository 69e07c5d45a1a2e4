"""The exception queue: the triage list analysts work in all day, its saved
views, and the counts per status and code for the current filter."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from exceptions_queue.codes import ExceptionCode
from exceptions_queue.filters import FILTER_PARAMS, describe_filter, filter_conditions, filter_queue
from exceptions_queue.models import SavedView, Status
from exceptions_queue.saved_views import (
    BUILT_IN_VIEWS,
    clean_query,
    saved_view_delete,
    saved_view_save,
    saved_views_for,
)
from exceptions_queue.selectors import (
    QUEUE_SORT_LABELS,
    capped_count,
    code_counts,
    status_counts,
)
from revops.actors import Actor
from revops.web.decorators import reads
from revops.web.pagination import paginate
from revops.web.views.common import htmx_target, render_page

VIEW_PERMISSION = "exceptions_queue.view_exceptionitem"
CHANGE_PERMISSION = "exceptions_queue.change_exceptionitem"
MAIN_FIELDS = ("status", "code", "team", "assignee", "sla", "sort")
MORE_FIELDS = (
    "severity",
    "priority",
    "legal_entity",
    "connector",
    "older_than",
    "currency",
    "amount_min",
    "amount_max",
)


@reads(VIEW_PERMISSION)
def queue_list(request):
    now = timezone.now()
    queryset, form = filter_queue(request.GET, user=request.user, now=now)
    data = form.filters()
    params = {key: value for key, value in request.GET.items() if value != "" and key in FILTER_PARAMS}
    page = paginate(queryset, page=request.GET.get("page"), params=params)
    for item in page.items:
        _mark_due(item, now)
        item.last_seen_label = (
            f"{_span(now - item.last_seen_at)} ago" if item.last_seen_at <= now else "just now"
        )
    query = clean_query(urlencode(params))
    context = {
        "form": form,
        "main_fields": [form[name] for name in MAIN_FIELDS],
        "more_fields": [form[name] for name in MORE_FIELDS],
        "more_open": any(form[name].value() not in (None, "") or form[name].errors for name in MORE_FIELDS),
        "description": describe_filter(form),
        "sort_links": {key: _link(page.params, sort=key) for key in QUEUE_SORT_LABELS},
        "page": page,
        "sort": data["sort"],
        "sorts": QUEUE_SORT_LABELS,
        "query": query,
        "filter_params": [(key, value) for key, value in params.items()],
        "filtered": bool(params.keys() - {"sort"}),
        "status_facets": _status_facets(data, request.user, now, page),
        "code_facets": _code_facets(data, request.user, now, page),
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
    }
    if htmx_target(request) != "results":
        # The saved views do not depend on the filter: only the full page shows them.
        context["built_in_views"] = _built_in_views(request.user, now, query)
        context["saved_views"] = [
            {"view": view, "current": view.query == query} for view in saved_views_for(request.user)
        ]
    return render_page(request, "exceptions_queue/list.html", context, partials={"results": "results"})


def _mark_due(item, now: dt.datetime) -> None:
    """What a row says about the due time: "overdue 3 h", "in 2 d"."""
    item.overdue = bool(item.due_at and item.is_open and item.due_at < now)
    if item.due_at is None:
        item.due_label = "—"
    elif item.overdue:
        item.due_label = f"overdue {_span(now - item.due_at)}"
    elif item.due_at >= now:
        item.due_label = f"in {_span(item.due_at - now)}"
    else:
        item.due_label = f"{_span(now - item.due_at)} ago"
    item.due_soon = bool(item.is_open and not item.overdue and item.due_at and item.due_at - now < _DAY)


_DAY = dt.timedelta(hours=24)


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _link(params: dict, **changes) -> str:
    merged = {**params, **changes}
    return urlencode({key: value for key, value in merged.items() if value not in (None, "")})


def _status_facets(data, user, now, page) -> list[dict]:
    """Counts per status for the filter as it is, whatever status it asks for."""
    counts = status_counts(filter_conditions(data, user=user, now=now, skip=frozenset({"status"})))
    return [
        {
            "value": status.value,
            "label": status.label,
            "count": counts[status.value][0],
            "capped": counts[status.value][1],
            "query": _link(page.params, status=status.value),
            "current": data["status"] == status.value,
        }
        for status in Status
    ]


def _code_facets(data, user, now, page) -> list[dict]:
    """Counts per code for the filter as it is, whatever code it asks for; codes without items are left out."""
    counts = code_counts(filter_conditions(data, user=user, now=now, skip=frozenset({"code"})))
    facets = [
        {
            "value": code.value,
            "label": code.label,
            "count": counts[code.value][0],
            "capped": counts[code.value][1],
            "query": _link(page.params, code=code.value),
            "current": data.get("code") == code.value,
        }
        for code in ExceptionCode
    ]
    return sorted((f for f in facets if f["count"]), key=lambda f: (-f["count"], f["label"]))


def _built_in_views(user, now, query: str) -> list[dict]:
    views = []
    for view in BUILT_IN_VIEWS:
        queryset, _ = filter_queue(QueryDict(view.query), user=user, now=now)
        count, capped = capped_count(queryset)
        views.append(
            {
                "name": view.name,
                "query": view.query,
                "count": count,
                "capped": capped,
                "current": view.query == query,
            }
        )
    return views


# ---------------------------------------------------------------- saved views


def _posts(perm: str):
    """A POST-only action for users with `perm` (GET answers 405)."""

    def decorator(view):
        guarded = permission_required(perm, raise_exception=True)(require_POST(view))
        guarded.required_permission = perm
        return guarded

    return decorator


@_posts(VIEW_PERMISSION)
def saved_view_add(request):
    query = clean_query(request.POST.get("query", ""))
    try:
        view = saved_view_save(
            user=request.user,
            name=request.POST.get("name", ""),
            query=query,
            actor=Actor.for_user(request.user),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(_queue_url(query))


@_posts(VIEW_PERMISSION)
def saved_view_remove(request, pk: int):
    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    saved_view_delete(view=view, actor=Actor.for_user(request.user))
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(_queue_url(clean_query(request.POST.get("query", ""))))


def _queue_url(query: str) -> str:
    return reverse("exceptions_queue:list") + (f"?{query}" if query else "")
