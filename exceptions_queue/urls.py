"""Exception queue pages, mounted at /exceptions/ by the root URLconf."""

from django.urls import path

from exceptions_queue.views import bulk, detail, queue, rules

app_name = "exceptions_queue"

urlpatterns = [
    path("", queue.queue_list, name="list"),
    path("views/save/", queue.saved_view_add, name="saved_view_add"),
    path("views/<int:pk>/delete/", queue.saved_view_remove, name="saved_view_remove"),
    path("bulk/", bulk.bulk_confirm, name="bulk_confirm"),
    path("bulk/actions/", bulk.bulk_list, name="bulk_list"),
    path("bulk/<int:pk>/", bulk.bulk_detail, name="bulk_detail"),
    path("<int:pk>/", detail.item_detail, name="detail"),
    path("<int:pk>/assign/", detail.item_assign, name="assign"),
    path("<int:pk>/comment/", detail.item_comment, name="comment"),
    path("<int:pk>/dismiss/", detail.item_dismiss, name="dismiss"),
    path("<int:pk>/resubmit/", detail.item_resubmit, name="resubmit"),
    path("<int:pk>/check/", detail.item_check, name="check"),
    path("rules/", rules.rule_list, name="rule_list"),
    path("rules/add/", rules.rule_add, name="rule_add"),
    path("rules/history/", rules.rule_history, name="rule_history"),
    path("rules/<int:pk>/edit/", rules.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", rules.rule_delete, name="rule_delete"),
]
