from django.urls import path

from reconciliation.views import actions, config, pages

app_name = "reconciliation"

urlpatterns = [
    path("", pages.reconciliation_list, name="list"),
    path("add/", config.reconciliation_add, name="add"),
    path("<int:pk>/", pages.reconciliation_detail, name="detail"),
    path("<int:pk>/edit/", config.reconciliation_edit, name="edit"),
    path("<int:pk>/run/", actions.run_start, name="run_start"),
    path("<int:pk>/rules/add/", config.rule_add, name="rule_add"),
    path("rules/<int:pk>/edit/", config.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", config.rule_delete, name="rule_delete"),
    path("runs/<int:pk>/", pages.run_detail, name="run"),
    path("runs/<int:pk>/export.csv", pages.run_export, name="run_export"),
    path("runs/<int:pk>/decide/", actions.decide, name="decide"),
    path("bank-statements/<int:pk>/", pages.statement_cash, name="statement_cash"),
]
