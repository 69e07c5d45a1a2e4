"""/api/: the token pages for admins, and the versioned API."""

from django.urls import include, path

from revops.api import pages

urlpatterns = [
    path("tokens/", pages.token_list, name="api_tokens"),
    path("tokens/add/", pages.token_add, name="api_token_add"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="api_token_revoke"),
    path("v1/", include("revops.api.v1")),
]
