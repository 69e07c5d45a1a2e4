"""ERP pages of a connector, under /connectors/<pk>/erp/."""

from django.urls import path

from connectors.erp import views

urlpatterns = [
    path("<int:pk>/erp/postings/", views.erp_postings, name="erp_postings"),
    path("<int:pk>/erp/mapping/", views.erp_mapping_edit, name="erp_mapping"),
]
