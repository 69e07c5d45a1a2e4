"""File-import pages; included at /connectors/imports/."""

from django.urls import path

from connectors.files import views

app_name = "files"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("upload/", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("mappings/", views.mapping_list, name="mapping_list"),
    path("mappings/add/", views.mapping_add, name="mapping_add"),
    path("mappings/<int:pk>/edit/", views.mapping_edit, name="mapping_edit"),
]
