"""Connector pages, mounted at /connectors/ by the root URLconf."""

from django.urls import include, path

from connectors.views import actions, config, runs

app_name = "connectors"

urlpatterns = [
    path("", config.connector_list, name="list"),
    path("add/", config.connector_add, name="add"),
    path("<int:pk>/", config.connector_detail, name="detail"),
    path("<int:pk>/edit/", config.connector_edit, name="edit"),
    path("<int:pk>/delete/", config.connector_delete_view, name="delete"),
    path("<int:pk>/sync/", actions.connector_sync, name="sync"),
    path("<int:pk>/test/", actions.connector_test, name="test"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/replay/", actions.run_replay, name="run_replay"),
    path("records/<int:pk>/", runs.record_detail, name="record_detail"),
    path("records/<int:pk>/replay/", actions.record_replay, name="record_replay"),
    path("imports/", include("connectors.files.urls")),
    path("", include("connectors.erp.urls")),
]
