"""Django admin for connectors, read-only: configuration changes go through the
app's connector pages, which ask for a reason, keep the Django-Q2 schedule in
step and never show secrets; runs, stored records, cursors and webhook
deliveries are records of what happened. Tables can be large, so change lists
never count every row and foreign keys are raw ids."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from connectors.models import SECRET_FIELDS, Connector, InboundRecord, SyncCursor, SyncRun, WebhookDelivery


class ReadOnlyMixin:
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "legal_entity", "enabled", "health", "schedule_type", "last_success_at")
    list_filter = ("kind", "enabled", "health")
    search_fields = ("name",)
    exclude = SECRET_FIELDS
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "connector", "trigger", "status", "created_at", "read", "business_errors")
    list_filter = ("status", "trigger")
    list_select_related = ("connector",)
    raw_id_fields = ("connector", "replay_of")


@admin.register(InboundRecord)
class InboundRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "connector", "object_type", "external_id", "outcome", "received_at")
    list_filter = ("outcome", "object_type")
    list_select_related = ("connector",)
    search_fields = ("=external_id",)
    raw_id_fields = ("connector", "run", "last_run", "content_type")


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("connector", "stream", "updated_at")
    list_select_related = ("connector",)
    raw_id_fields = ("connector",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "connector", "event_id", "event_type", "status", "received_at")
    list_filter = ("status",)
    list_select_related = ("connector",)
    search_fields = ("=event_id",)
    raw_id_fields = ("connector",)
