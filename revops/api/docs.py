"""The OpenAPI schema and its documentation page (Swagger UI served from
drf-spectacular-sidecar's local copy, never a CDN). Both need a signed-in user
or a token of someone with a role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, permissions

from revops.api import schema  # noqa: F401 - registers the authentication schemes and error shape
from revops.roles import user_roles


class AnyRole(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Send a personal API token or sign in.")
        if not user_roles(request.user):
            raise exceptions.PermissionDenied("You have no role that may use the API.")
        return True


class SchemaView(SpectacularAPIView):
    permission_classes = [AnyRole]

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class DocsView(SpectacularSwaggerView):
    """An HTML page: anonymous visitors are sent to the login page like any page."""

    permission_classes = [AnyRole]

    @classmethod
    def as_view(cls, *args, **kwargs):
        # DRF exempts its views from LoginRequiredMiddleware; a page wants the redirect back.
        return login_required(super().as_view(*args, **kwargs))
