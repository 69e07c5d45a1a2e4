"""Bank statement pages, mounted at /bank/ by the root URLconf."""

from django.urls import path

from reconciliation.statements import views

app_name = "statements"

urlpatterns = [
    path("statements/", views.statement_list, name="list"),
    path("statements/upload/", views.statement_upload, name="upload"),
    path("statements/<int:pk>/", views.statement_detail, name="detail"),
]
