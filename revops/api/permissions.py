"""Role rules for the API: the same Django permissions the pages check.

A view names the permission that reads it (`read_perm`) and, per write action,
the permission that changes it (`write_perms`, action name → permission, or
`write_perm` for every write). A token acts with exactly its user's
permissions, so an auditor's token reads and never writes.
"""

from __future__ import annotations

from rest_framework import exceptions, permissions

NO_ROLE = "You have no role that may see this. Ask an Integration Admin to add you to a role."
READ_ONLY = "Your role may read this but not change it."


def required_perm(request, view) -> str | None:
    if request.method in permissions.SAFE_METHODS:
        return getattr(view, "read_perm", None)
    action = getattr(view, "action", None)
    perms = getattr(view, "write_perms", {}) or {}
    return perms.get(action) or getattr(view, "write_perm", None)


class RolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated(
                "Send a personal API token as 'Authorization: Bearer <token>', or sign in."
            )
        perm = required_perm(request, view)
        if perm is None:
            # A view that names no permission is refused rather than left open.
            raise exceptions.PermissionDenied(NO_ROLE)
        if user.has_perm(perm):
            return True
        read = getattr(view, "read_perm", None)
        if request.method not in permissions.SAFE_METHODS and read and user.has_perm(read):
            raise exceptions.PermissionDenied(READ_ONLY)
        raise exceptions.PermissionDenied(NO_ROLE)
