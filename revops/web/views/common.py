"""Helpers shared by the views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from revops.web.pagination import paginate


def htmx_target(request: HttpRequest) -> str | None:
    """The element an htmx request will swap, or None for a normal request."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted or htmx.history_restore_request:
        return None
    return htmx.target


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partials: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full page, or for an htmx request aimed at a known element, just
    the partial that fills it (`partials`: element id → partial name)."""
    target = htmx_target(request)
    if target and partials and target in partials:
        template = f"{template}#{partials[target]}"
    response = render(request, template, context, status=status)
    if partials:
        # The same URL answers with a page or a fragment: caches must keep both apart.
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def list_page(
    request: HttpRequest, template: str, *, form, queryset, sort: str, extra: dict | None = None
) -> HttpResponse:
    """A list: the filter form, one page of rows, and the results table alone
    when htmx asks for it after a filter, sort or page change."""
    params = {key: value for key, value in request.GET.items() if value != ""}
    page = paginate(queryset, page=request.GET.get("page"), params=params)
    context = {
        "form": form,
        "page": page,
        "sort": sort,
        "filtered": any(key not in ("page", "sort") for key in params),
        **(extra or {}),
    }
    return render_page(request, template, context, partials={"results": "results"})
