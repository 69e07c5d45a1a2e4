"""Access rules for connector actions that only answer POST."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import permission_required
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


def acts(perm: str) -> Callable:
    """An action button's target: POST only, with `perm` (403 without it, checked
    before the method so a reader learns nothing from a 405)."""

    def decorator(view: Callable) -> Callable:
        guarded = permission_required(perm, raise_exception=True)(require_POST(view))
        guarded.required_permission = perm
        return guarded

    return decorator


def safe_next(request) -> str | None:
    """The `next` page an action form asks to return to, when it is on this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
