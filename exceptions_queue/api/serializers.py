"""Exception items, comments and bulk actions as the API shows them, and the
bodies of the actions. Bodies are parsed by the same forms the item page uses,
so the API accepts and refuses exactly what the page does."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exceptions_queue.forms import suggested_options
from exceptions_queue.models import BulkAction, ExceptionComment, ExceptionItem

ITEM_FIELDS = [
    "id",
    "code",
    "severity",
    "status",
    "priority",
    "title",
    "message",
    "dedupe_key",
    "step_key",
    "source_system",
    "connector_id",
    "connector_name",
    "sync_run_id",
    "inbound_record_id",
    "object_id",
    "object_label",
    "external_id",
    "customer",
    "correlation_id",
    "legal_entity",
    "currency",
    "amount",
    "assignee",
    "team",
    "due_at",
    "occurrences",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "resolution_note",
    "dismissed_reason",
]


class ExceptionItemSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    legal_entity = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = ExceptionItem
        fields = ITEM_FIELDS


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExceptionComment
        fields = ["id", "actor", "body", "created_at"]


class SuggestedFixSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    correction = serializers.DictField()


class ExceptionItemDetailSerializer(ExceptionItemSerializer):
    comments = CommentSerializer(many=True, read_only=True)
    suggested_fixes = serializers.SerializerMethodField()

    class Meta:
        model = ExceptionItem
        fields = [
            *ITEM_FIELDS,
            "payload",
            "error_details",
            "correction",
            "suggested_fixes",
            "comments",
        ]

    @extend_schema_field(SuggestedFixSerializer(many=True))
    def get_suggested_fixes(self, item):
        return suggested_options(item)


class AssignBody(serializers.Serializer):
    assignee = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        max_length=20,
        help_text='A user id, "me", or blank/null to unassign',
    )


class CommentBody(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class DismissBody(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CheckBody(serializers.Serializer):
    correction = serializers.DictField(
        required=False,
        allow_null=True,
        help_text='Corrected values by payload path, e.g. {"lines.0.tax_amount": 7.75}; the values keep '
        "the payload's own types and units",
    )


class ResubmitBody(CheckBody):
    option = serializers.CharField(
        required=False, max_length=100, help_text="Key of a suggested fix, instead of a correction"
    )
    reason = serializers.CharField(max_length=500)


class CheckResult(serializers.Serializer):
    would_go_through = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.DictField())


class BulkActionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = BulkAction
        fields = [
            "id",
            "action",
            "state",
            "filter_description",
            "params",
            "total",
            "processed",
            "succeeded",
            "skipped",
            "failed",
            "errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class BulkBody(serializers.Serializer):
    action = serializers.ChoiceField(choices=BulkAction.Action.choices)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        max_length=1000,
        help_text="The items to change; or give `filter`",
    )
    filter = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=255),
        required=False,
        help_text="The queue's filter (the list's query parameters): everything it matches",
    )
    assignee_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    expected_count = serializers.IntegerField(
        required=False, min_value=0, max_value=10**9, help_text="Refuse to start unless this many items match"
    )
