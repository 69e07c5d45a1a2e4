"""The exception queue: the triage list analysts work in all day, its saved
views, and the counts per status and code for the current filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from exceptions_queue.codes import ExceptionCode, Severity
from exceptions_queue.filters import (
    FILTER_PARAMS,
    describe_filter,
    filter_conditions,
    filter_queue,
    is_simple,
)
from exceptions_queue.models import OPEN_STATUSES, Priority, SavedView, Status
from exceptions_queue.saved_views import (
    BUILT_IN_VIEWS,
    clean_query,
    saved_view_delete,
    saved_view_save,
    saved_views_for,
)
from exceptions_queue.selectors import (
    OPEN,
    QUEUE_COUNT_CAP,
    QUEUE_DEFAULT_SORT,
    QUEUE_PER_PAGE,
    QUEUE_SORT_LABELS,
    capped_count,
    capped_counts,
    code_counts,
    queue_rows,
    sampled_counts,
    status_counts,
)
from revops.actors import Actor
from revops.money import format_amount
from revops.web.decorators import reads
from revops.web.pagination import Page
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


@dataclass
class QueuePage(Page):
    cap: int = QUEUE_COUNT_CAP

    @property
    def at_max_page(self) -> bool:
        return self.number >= queue_max_page(self.per_page, self.cap)


def queue_max_page(per_page: int = QUEUE_PER_PAGE, cap: int = QUEUE_COUNT_CAP) -> int:
    return max(1, cap // per_page)


def queue_page(
    qs: QuerySet, *, page: str | None, params: dict[str, str], count: tuple[int, bool] | None = None
) -> QueuePage:
    """One page of the queue, like revops list pages but counting to the queue's
    cap: deeper than that, narrow the filter. `count`: (count, capped) when
    already known."""
    cap, per_page = QUEUE_COUNT_CAP, QUEUE_PER_PAGE
    last_allowed = queue_max_page(per_page, cap)
    try:
        number = min(max(int(page or 1), 1), last_allowed)
    except ValueError:
        number = 1
    count, capped = count if count is not None else capped_count(qs, cap)
    if not capped:
        number = min(number, max(1, -(-count // per_page)))
    offset = (number - 1) * per_page
    ids = list(qs.values_list("pk", flat=True)[offset : offset + per_page + 1])
    return QueuePage(
        items=queue_rows(ids[:per_page]),
        number=number,
        per_page=per_page,
        count=count,
        count_capped=capped,
        has_next=len(ids) > per_page and number < last_allowed,
        params={key: value for key, value in params.items() if key != "page"},
        cap=cap,
    )


@reads(VIEW_PERMISSION)
def queue_list(request):
    now = timezone.now()
    queryset, form = filter_queue(request.GET, user=request.user, now=now)
    data = form.filters()
    params = {key: value for key, value in request.GET.items() if value != "" and key in FILTER_PARAMS}
    by_status, by_code = _facet_counts(data, request.user, now)
    # Counts that cover exactly the listed items give the total without counting again:
    # per code when no code is chosen, else per open status when the queue shows the open items.
    if not data.get("code"):
        total = _total(by_code.values())
    elif data["status"] == OPEN and not is_simple(data):
        total = _total(by_status[status] for status in OPEN_STATUSES)
    else:
        total = None
    page = queue_page(queryset, page=request.GET.get("page"), params=params, count=total)
    urls = {
        "detail": reverse("exceptions_queue:detail", args=[_PK]),
        "customer": reverse("customer_detail", args=[_PK]),
    }
    rows = [_row(item, now, urls) for item in page.items]
    query = clean_query(urlencode(params))
    context = {
        "form": form,
        "main_fields": [_field(form, name) for name in MAIN_FIELDS],
        "more_fields": [_field(form, name) for name in MORE_FIELDS],
        "rows": rows,
        "more_open": any(form[name].value() not in (None, "") or form[name].errors for name in MORE_FIELDS),
        "description": describe_filter(form),
        "sort_links": {key: _link(page.params, sort=key) for key in QUEUE_SORT_LABELS},
        "page": page,
        "sort": data["sort"],
        "sorts": QUEUE_SORT_LABELS,
        "query": query,
        "filter_params": [(key, value) for key, value in params.items()],
        "filtered": bool(params.keys() - {"sort"}),
        "status_facets": _status_facets(by_status, data, page),
        "code_facets": _code_facets(by_code, data, page),
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
    }
    if htmx_target(request) != "results":
        # The saved views do not depend on the filter: only the full page shows them.
        context["built_in_views"] = _built_in_views(request.user, now, query)
        context["saved_views"] = [
            {"view": view, "current": view.query == query} for view in saved_views_for(request.user)
        ]
    return render_page(request, "exceptions_queue/list.html", context, partials={"results": "results"})


# Labels looked up once: a page renders fifty rows on every filter change.
_PRIORITY = dict(Priority.choices)
_SEVERITY = dict(Severity.choices)
_CODE = dict(ExceptionCode.choices)
_STATUS = dict(Status.choices)


def _row(item, now: dt.datetime, urls: dict[str, str]) -> dict:
    """What one queue row shows, ready to print: what is wrong, with what, how
    bad, who owns it, when it is due (overdue flagged) and how often it was seen."""
    due_at = item.due_at
    is_open = item.is_open
    overdue = bool(due_at and is_open and due_at < now)
    if due_at is None:
        due_label = "—"
    elif overdue:
        due_label = f"overdue {_span(now - due_at)}"
    elif due_at >= now:
        due_label = f"in {_span(due_at - now)}"
    else:
        due_label = f"{_span(now - due_at)} ago"
    assignee = item.assignee
    customer = item.customer
    return {
        "pk": item.pk,
        "url": urls["detail"].replace(str(_PK), str(item.pk)),
        "priority": item.priority,
        "priority_label": _PRIORITY.get(item.priority, item.priority),
        "severity": item.severity,
        "severity_label": _SEVERITY.get(item.severity, item.severity),
        "code": item.code,
        "code_label": _CODE.get(item.code, item.code),
        "label": item.object_label or item.title,
        "title": item.title if item.object_label else "",
        "connector": item.connector_name,
        "customer": customer.name if customer else "",
        "customer_url": urls["customer"].replace(str(_PK), str(customer.pk)) if customer else "",
        "amount": format_amount(item.amount, item.currency) if item.amount is not None else "",
        "currency": item.currency,
        "team": item.team.name if item.team else "",
        "assignee": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
        "status": item.status,
        "status_label": _STATUS.get(item.status, item.status),
        "overdue": overdue,
        "due_soon": bool(is_open and not overdue and due_at and due_at - now < _DAY),
        "due_label": due_label,
        "due_title": f"{due_at:%Y-%m-%d %H:%M} UTC" if due_at else "",
        "occurrences": item.occurrences,
        "last_seen": f"{_span(now - item.last_seen_at)} ago" if item.last_seen_at <= now else "just now",
        "seen_title": f"last seen {item.last_seen_at:%Y-%m-%d %H:%M} UTC, first seen {item.first_seen_at:%Y-%m-%d %H:%M} UTC",
    }


_DAY = dt.timedelta(hours=24)
# Row links come from one reverse per page, with each row's pk put in place of this one.
_PK = 987654321


_DEFAULTS = {"status": OPEN, "sort": QUEUE_DEFAULT_SORT}


def _field(form, name: str) -> dict:
    """A filter field as plain data: the bar is re-rendered on every page view,
    and a template loop over options is several times cheaper than widgets."""
    bound = form[name]
    field = form.fields[name]
    value = bound.value()
    value = "" if value is None else str(value)
    data = {
        "name": name,
        "id": bound.id_for_label,
        "label": bound.label,
        "errors": bound.errors,
        "value": value,
        "options": None,
    }
    if isinstance(field.widget, forms.Select):
        # The default status and sort go as "", so addresses carry only the filters in use.
        default = _DEFAULTS.get(name)
        if value == default:
            value = ""
        data["options"] = [
            ("" if key == default else str(key), label, ("" if key == default else str(key)) == value)
            for key, label in field.widget.choices
        ]
    else:
        data["input_type"] = (
            "number" if isinstance(field, (forms.IntegerField, forms.DecimalField)) else "text"
        )
    return data


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


_STATUS_ONLY = frozenset({"status"})
_CODE_ONLY = frozenset({"code"})


def _total(counts) -> tuple[int, bool] | None:
    """The capped total of capped counts of disjoint sets (None if they are not known)."""
    counts = list(counts)
    if any(count is None for count, _ in counts):
        return None
    total = sum(count for count, _ in counts)
    capped = any(capped for _, capped in counts) or total > QUEUE_COUNT_CAP
    return min(total, QUEUE_COUNT_CAP), capped


def _facet_counts(data, user, now) -> tuple[dict, dict]:
    """Counts per status and per code for the filter as it is (each whatever
    status or code the filter asks for), as {value: (count or None, capped)}."""
    simple = is_simple(data)
    if not simple and data["status"] == OPEN and not data.get("code"):
        # Both facets cover exactly the listed items: one pass counts them together.
        found, capped = sampled_counts(filter_conditions(data, user=user, now=now), ("status", "code"))
        if found is None:
            return dict.fromkeys(Status.values, (None, False)), dict.fromkeys(
                ExceptionCode.values, (None, False)
            )
        by_status = {
            status: (min(sum(n for (s, _), n in found.items() if s == status), QUEUE_COUNT_CAP), capped)
            if status in OPEN_STATUSES
            else (None, False)
            for status in Status.values
        }
        by_code = {
            code: (min(sum(n for (_, c), n in found.items() if c == code), QUEUE_COUNT_CAP), capped)
            for code in ExceptionCode.values
        }
        return by_status, by_code
    by_code = code_counts(filter_conditions(data, user=user, now=now, skip=_CODE_ONLY), per_value=simple)
    return _status_counts(data, user, now, simple), by_code


def _status_counts(data, user, now, simple: bool) -> dict[str, tuple[int | None, bool]]:
    """Counts per status for the filter as it is, whatever status it asks for.

    Beyond a status and a code, only the open statuses are counted (the
    covering index of open items answers that alone); closed items grow
    without end and their chips show without numbers."""
    condition = filter_conditions(data, user=user, now=now, skip=_STATUS_ONLY)
    if simple:
        return status_counts(condition)
    counts = status_counts(condition & Q(status__in=OPEN_STATUSES), per_value=False)
    return {status: counts[status] if status in OPEN_STATUSES else (None, False) for status in counts}


def _status_facets(counts, data, page) -> list[dict]:
    """Counts per status for the filter as it is, whatever status it asks for."""
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


def _code_facets(counts, data, page) -> list[dict]:
    """Counts per code for the filter as it is, whatever code it asks for; codes without items are left out."""
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
    if any(f["count"] is None for f in facets):  # counting took too long: the codes without numbers
        return facets
    return sorted((f for f in facets if f["count"]), key=lambda f: (-f["count"], f["label"]))


def _built_in_views(user, now, query: str) -> list[dict]:
    """The built-in views with their counts, in one statement."""
    conditions = {
        view.key: filter_conditions({"status": OPEN, **dict(parse_qsl(view.query))}, user=user, now=now)
        for view in BUILT_IN_VIEWS
    }
    counts = capped_counts(conditions)
    return [
        {
            "name": view.name,
            "query": view.query,
            "count": counts[view.key][0],
            "capped": counts[view.key][1],
            "current": view.query == query,
        }
        for view in BUILT_IN_VIEWS
    ]


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
