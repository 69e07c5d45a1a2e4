"""Connectors through the API: list them with their health (never their
secrets), start a run as the Sync now button does, and follow its status."""

from __future__ import annotations

import django_filters as df
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from connectors import engine, tasks
from connectors.models import Connector, SyncRun
from revops.api.base import ApiMixin
from revops.api.filters import MAX_ID, IdFilter

RUN_PERMISSION = "connectors.run_connector"


class RunRefused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "run_refused"


class ConnectorSerializer(serializers.ModelSerializer):
    legal_entity = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Connector
        fields = [
            "id",
            "name",
            "kind",
            "legal_entity",
            "enabled",
            "direction",
            "base_url",
            "schedule_type",
            "interval_minutes",
            "cron",
            "object_types",
            "health",
            "failing_reason",
            "last_run_at",
            "last_success_at",
        ]


class SyncRunSerializer(serializers.ModelSerializer):
    connector = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connector",
            "trigger",
            "full",
            "status",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "next_retry_at",
            "stream",
            "pages",
            "read",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "business_errors",
            "error_class",
            "error_message",
            "replay_of",
        ]


class RunBody(serializers.Serializer):
    full = serializers.BooleanField(
        default=False, help_text="Read everything again instead of from the cursor"
    )


@extend_schema(tags=["connectors"])
class ConnectorViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = "connectors.view_connector"
    write_perm = RUN_PERMISSION
    lookup_value_converter = "int"
    queryset = Connector.objects.select_related("legal_entity")
    serializer_class = ConnectorSerializer
    filterset_fields = ["kind", "enabled", "health", "direction"]
    ordering_fields = ["id", "name"]

    def get_serializer_class(self):
        return RunBody if self.action == "run" else ConnectorSerializer

    @extend_schema(
        request=RunBody,
        responses={202: SyncRunSerializer},
        description="Start a sync run now, as Sync now (or Full sync) does on the connector page. "
        "409 when the connector is disabled or already has a run in progress.",
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        body = RunBody(data=request.data)
        body.is_valid(raise_exception=True)
        connector = self.get_object()
        if not connector.enabled:
            raise RunRefused(f"{connector.name} is disabled; enable it before syncing.")
        try:
            run = engine.run_create(
                connector=connector,
                trigger=SyncRun.Trigger.MANUAL,
                full=body.validated_data["full"],
                requested_by=request.user.get_username(),
            )
        except engine.RunInProgress as exc:
            raise RunRefused(
                f"{connector.name} already has run {exc.run.pk} {exc.run.get_status_display().lower()}; "
                "wait for it to finish before starting another."
            ) from None
        tasks.enqueue_run(run)
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SyncRunFilter(df.FilterSet):
    connector = IdFilter(field_name="connector_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = SyncRun
        fields = ["status", "trigger"]


@extend_schema(tags=["connectors"])
class SyncRunViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = "connectors.view_syncrun"
    lookup_value_converter = "int"
    queryset = SyncRun.objects.select_related("connector")
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilter
    ordering_fields = ["id", "created_at"]
