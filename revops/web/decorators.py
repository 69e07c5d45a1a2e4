"""Access rules for views: a permission check (403 for a signed-in user without
it; LoginRequiredMiddleware has already sent anonymous users to the login page)
and the HTTP methods the view answers."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import permission_required
from django.views.decorators.http import require_http_methods


def reads(perm: str) -> Callable:
    """A read-only page: GET (and HEAD) with the view permission."""
    return _guard(perm, ["GET", "HEAD"])


def edits(perm: str) -> Callable:
    """A form: GET shows it, POST saves it; both need the change permission, so
    a user who may only read is refused before seeing the form."""
    return _guard(perm, ["GET", "HEAD", "POST"])


def _guard(perm: str, methods: list[str]) -> Callable:
    def decorator(view: Callable) -> Callable:
        guarded = permission_required(perm, raise_exception=True)(require_http_methods(methods)(view))
        guarded.required_permission = perm
        return guarded

    return decorator
