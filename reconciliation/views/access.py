"""Who may do what on the reconciliation pages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import permission_required
from django.views.decorators.http import require_POST

VIEW = "reconciliation.view_reconciliation"
RUN = "reconciliation.add_run"
DECIDE = "reconciliation.change_run"
CONFIGURE = "reconciliation.change_reconciliation"
ADD = "reconciliation.add_reconciliation"
ADD_RULE = "reconciliation.add_matchrule"
CHANGE_RULE = "reconciliation.change_matchrule"
DELETE_RULE = "reconciliation.delete_matchrule"


def posts(perm: str) -> Callable:
    """An action button: POST only, for those with the permission; readers are
    refused (403) before the method is checked."""

    def decorator(view: Callable) -> Callable:
        guarded = permission_required(perm, raise_exception=True)(require_POST(view))
        guarded.required_permission = perm
        return guarded

    return decorator
