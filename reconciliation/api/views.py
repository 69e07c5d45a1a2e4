"""Reconciliation runs and their results through the API, read only: a run
with its counts and totals per side, currency and outcome, and the lines of
its report (matched and suggested pairs, unmatched records)."""

from __future__ import annotations

import django_filters as df
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from reconciliation.models import Outcome, Run, RunLine, RunTotal
from revops.api.base import ApiMixin
from revops.api.filters import MAX_ID, IdFilter


class RunTotalSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunTotal
        fields = ["side", "currency", "outcome", "count", "amount"]


class RunSerializer(serializers.ModelSerializer):
    reconciliation_name = serializers.CharField(source="reconciliation.name", read_only=True)
    totals = RunTotalSerializer(many=True, read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "reconciliation",
            "reconciliation_name",
            "status",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "date_from",
            "date_to",
            "left_count",
            "right_count",
            "matched_groups",
            "suggested_groups",
            "left_unmatched",
            "right_unmatched",
            "breaks_opened",
            "breaks_seen_again",
            "breaks_resolved",
            "error",
            "lines_removed_at",
            "totals",
        ]


class RunLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunLine
        fields = ["id", "run", "outcome", "group_no", "rule", "decided", "currency", *RunLine.side_fields()]


class RunFilter(df.FilterSet):
    reconciliation = IdFilter(field_name="reconciliation_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Run
        fields = ["status", "trigger"]


class RunLineFilter(df.FilterSet):
    run = IdFilter(field_name="run_id", min_value=1, max_value=MAX_ID)
    outcome = df.ChoiceFilter(choices=Outcome.choices)

    class Meta:
        model = RunLine
        fields = ["run", "outcome"]


@extend_schema(tags=["reconciliation"])
class RunViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = "reconciliation.view_run"
    lookup_value_converter = "int"
    queryset = Run.objects.select_related("reconciliation").prefetch_related("totals")
    serializer_class = RunSerializer
    filterset_class = RunFilter
    ordering_fields = ["id", "created_at"]


@extend_schema(tags=["reconciliation"])
class RunLineViewSet(ApiMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A run's report, page by page: `run=<id>`, optionally `outcome`."""

    read_perm = "reconciliation.view_runline"
    queryset = RunLine.objects.all()
    serializer_class = RunLineSerializer
    filterset_class = RunLineFilter
    ordering_fields = ["id"]
