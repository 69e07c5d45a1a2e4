"""The exception queue through the API: list with the queue's own filters,
read an item, and everything a person does on the item page (assign, comment,
check a correction, resubmit, dismiss) or the queue (bulk actions), through
the same forms and services, so results and history are the same."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from exceptions_queue import bulk
from exceptions_queue.api import serializers as s
from exceptions_queue.codes import ExceptionCode, Severity
from exceptions_queue.filters import (
    FILTER_PARAMS,
    MAX_AGE_DAYS,
    STATUS_CHOICES,
    describe_filter,
    filter_queue,
)
from exceptions_queue.forms import AssignForm, CommentForm, DismissForm, SuggestedFixForm
from exceptions_queue.item_detail import item_for_detail
from exceptions_queue.models import BulkAction, ExceptionItem, Priority
from exceptions_queue.payload_paths import MISSING, value_at
from exceptions_queue.selectors import SLA_CHOICES
from exceptions_queue.services import (
    exception_assign,
    exception_check_correction,
    exception_comment,
    exception_dismiss,
    exception_resubmit,
)
from revops.actors import Actor
from revops.api.base import ApiMixin
from revops.api.errors import Unprocessable
from revops.api.ordering import StrictOrdering

VIEW_PERM = "exceptions_queue.view_exceptionitem"
CHANGE_PERM = "exceptions_queue.change_exceptionitem"
COMMENT_PERM = "exceptions_queue.add_exceptioncomment"

_ID = {"type": "integer", "minimum": 1, "maximum": 2**62}
_AMOUNT = {"type": "string", "pattern": r"^-?\d{1,14}(\.\d{1,4})?$"}
FILTER_DOCS = {
    "q": (
        {"type": "string", "maxLength": 255},
        "Number, customer, external id, correlation id or dedupe key",
    ),
    "status": (
        {"type": "string", "enum": [c[0] for c in STATUS_CHOICES]},
        "open (the default) or one status",
    ),
    "code": ({"type": "string", "enum": list(ExceptionCode.values)}, "Exception code"),
    "severity": ({"type": "string", "enum": list(Severity.values)}, "Severity"),
    "priority": ({"type": "integer", "enum": list(Priority.values)}, "1 (urgent) to 4 (low)"),
    "team": (_ID, "Team (group) id"),
    "assignee": ({"type": "string", "pattern": r"^(me|none|[1-9]\d{0,17})$"}, 'A user id, "me" or "none"'),
    "legal_entity": (_ID, "Legal entity id"),
    "connector": (_ID, "Connector id"),
    "sla": ({"type": "string", "enum": [c[0] for c in SLA_CHOICES]}, "SLA state"),
    "older_than": (
        {"type": "integer", "minimum": 1, "maximum": MAX_AGE_DAYS},
        "First seen more than N days ago",
    ),
    "currency": ({"type": "string", "pattern": "^[A-Z]{3}$"}, "ISO currency of the amount range"),
    "amount_min": (_AMOUNT, "Lowest amount (with currency)"),
    "amount_max": (_AMOUNT, "Highest amount (with currency)"),
}
FILTER_PARAMETERS = [
    OpenApiParameter(name, schema, description=text) for name, (schema, text) in FILTER_DOCS.items()
]


def _form_errors(form) -> dict[str, list[str]]:
    return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}


def _query(params) -> QueryDict:
    """The queue filter's parameters. Unlike the page's form, where an empty
    select means "any", an empty value here is refused: leave the parameter out."""
    query = QueryDict(mutable=True)
    empty, bad_ids = [], []
    for name in FILTER_PARAMS:
        if name in params and name != "sort":
            value = str(params[name])
            if value == "" and name != "q":
                empty.append(name)
            elif name in ("team", "legal_entity", "connector") and not _is_id(value):
                bad_ids.append(name)
            query[name] = value
    errors = {name: ["Give a value, or leave the parameter out."] for name in empty}
    errors.update({name: ["Give the id as a whole number from 1."] for name in bad_ids})
    if errors:
        raise ValidationError(errors)
    return query


def _is_id(value: str) -> bool:
    return value.isdigit() and 1 <= int(value) <= 2**62


def _correction(item: ExceptionItem, correction) -> dict | None:
    """The correction as the page builds it: only paths the item's payload has."""
    if correction is None:
        return None
    unknown = [path for path in correction if value_at(item.payload, str(path)) is MISSING]
    if unknown:
        raise Unprocessable(
            {f"correction.{path}": [f"The payload has no value at {path!r}."] for path in unknown}
        )
    return dict(correction) or None


@extend_schema(tags=["exceptions"])
class ExceptionItemViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = VIEW_PERM
    write_perm = CHANGE_PERM
    write_perms = {"comment": COMMENT_PERM}
    lookup_value_converter = "int"
    serializer_class = s.ExceptionItemSerializer
    filter_backends = [StrictOrdering]
    ordering_fields = ["id", "first_seen_at", "last_seen_at", "priority"]
    ordering = ["-id"]

    def get_queryset(self):
        if self.action != "list":
            return ExceptionItem.objects.select_related("assignee", "team", "legal_entity")
        items, form = filter_queue(_query(self.request.query_params), user=self.request.user)
        if form.errors:
            raise Unprocessable(_form_errors(form))
        return items.select_related("assignee", "team", "legal_entity")

    def get_serializer_class(self):
        return s.ExceptionItemDetailSerializer if self.action != "list" else s.ExceptionItemSerializer

    def get_object(self):
        item = super().get_object()
        return item_for_detail(item.pk)

    @extend_schema(
        parameters=FILTER_PARAMETERS, description="Items the queue's filter matches (open ones by default)."
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, item: ExceptionItem, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.ExceptionItemDetailSerializer(item_for_detail(item.pk)).data, status=code)

    def _actor(self) -> Actor:
        return Actor.for_user(self.request.user)

    def _form(self, form_class, data, **kwargs):
        form = form_class(data, **kwargs)
        if not form.is_valid():
            raise Unprocessable(_form_errors(form))
        return form

    @extend_schema(request=s.AssignBody, responses=s.ExceptionItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = s.AssignBody(data=request.data)
        body.is_valid(raise_exception=True)
        item = self.get_object()
        form = self._form(AssignForm, {"assignee": body.validated_data["assignee"] or ""}, user=request.user)
        updated = exception_assign(item=item, assignee=form.cleaned_data["assignee"], actor=self._actor())
        return self._answer(updated)

    @extend_schema(request=s.CommentBody, responses={201: s.CommentSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        body = s.CommentBody(data=request.data)
        body.is_valid(raise_exception=True)
        item = self.get_object()
        form = self._form(CommentForm, body.validated_data)
        if not item.is_open:
            raise Unprocessable(
                {"status": [f"This item is {item.get_status_display().lower()}; it takes no more comments."]}
            )
        comment = exception_comment(item=item, body=form.cleaned_data["body"], actor=self._actor())
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DismissBody, responses=s.ExceptionItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        body = s.DismissBody(data=request.data)
        body.is_valid(raise_exception=True)
        item = self.get_object()
        form = self._form(DismissForm, body.validated_data)
        return self._answer(
            exception_dismiss(item=item, reason=form.cleaned_data["reason"], actor=self._actor())
        )

    @extend_schema(
        request=s.CheckBody,
        responses=s.CheckResult,
        description="Run the failed step with the correction without keeping anything: the errors it would meet.",
    )
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        body = s.CheckBody(data=request.data)
        body.is_valid(raise_exception=True)
        item = self.get_object()
        correction = _correction(item, body.validated_data.get("correction"))
        errors = exception_check_correction(item=item, correction=correction, actor=self._actor())
        return Response({"would_go_through": not errors, "errors": errors})

    @extend_schema(
        request=s.ResubmitBody,
        responses=s.ExceptionItemDetailSerializer,
        description="Re-run the failed step with a correction (by payload path), a suggested fix (`option`) "
        "or the data as received; the item is resolved, stays resubmitted, or reopens with the new error.",
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        body = s.ResubmitBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        item = self.get_object()
        if data.get("option"):
            if data.get("correction") is not None:
                raise Unprocessable({"option": ["Give a suggested fix or a correction, not both."]})
            form = self._form(
                SuggestedFixForm, {"option": data["option"], "reason": data["reason"]}, item=item
            )
            correction = form.chosen()["correction"]
        else:
            correction = _correction(item, data.get("correction"))
        updated = exception_resubmit(
            item=item, correction=correction, reason=data["reason"], actor=self._actor()
        )
        return self._answer(updated)


@extend_schema(tags=["exceptions"])
class BulkActionViewSet(ApiMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = "exceptions_queue.view_bulkaction"
    write_perm = "exceptions_queue.add_bulkaction"
    lookup_value_converter = "int"
    queryset = BulkAction.objects.select_related("created_by")
    serializer_class = s.BulkActionSerializer
    filter_backends = []

    def get_serializer_class(self):
        return s.BulkBody if self.action == "create" else s.BulkActionSerializer

    @extend_schema(
        request=s.BulkBody,
        responses={201: s.BulkActionSerializer},
        description="Assign, resubmit or dismiss the given items, or every item the queue's filter "
        "matches; only items the action applies to change. Small sets change at once, larger ones in "
        "the background: follow `state` and the counts.",
    )
    def create(self, request, *args, **kwargs):
        if not request.user.has_perm(CHANGE_PERM):
            raise PermissionDenied("Your role may not change exception items.")
        body = s.BulkBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if bool(data.get("ids")) == (data.get("filter") is not None):
            raise Unprocessable({"ids": ["Give either `ids` or `filter`, not both and not neither."]})
        if data.get("filter") is not None:
            items, form = filter_queue(_query(data["filter"]), user=request.user)
            if form.errors:
                raise Unprocessable({f"filter.{k}": v for k, v in _form_errors(form).items()})
            description = f"All items matching: {describe_filter(form)}"
        else:
            ids = sorted(set(data["ids"]))
            items = ExceptionItem.objects.filter(pk__in=ids)
            description = f"{len(ids)} item{'s' if len(ids) != 1 else ''} chosen by id"
        started = bulk.bulk_action_start(
            action=data["action"],
            items=items,
            params={"reason": data.get("reason", ""), "assignee_id": data.get("assignee_id")},
            actor=Actor.for_user(request.user),
            filter_description=description,
            expected_count=data.get("expected_count"),
        )
        started.refresh_from_db()
        return Response(s.BulkActionSerializer(started).data, status=status.HTTP_201_CREATED)
