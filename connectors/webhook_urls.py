"""The public webhook endpoint, mounted at /webhooks/ by the root URLconf."""

from django.urls import path

from connectors import webhooks

urlpatterns = [path("<slug:name>/", webhooks.receive, name="webhook")]
