"""The project's URLs with the file-import pages mounted where the connector
pages include them, so these tests do not depend on that include."""

from django.urls import include, path

from revops.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("connectors/imports/", include("connectors.files.urls")),
    *project_urlpatterns,
]
