"""The canonical records through the API: read everything a role may browse;
record usage. Reads use the selectors' querysets, writes the services."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from revops import models as m
from revops.actors import Actor
from revops.api import filters
from revops.api import serializers as s
from revops.api.base import ApiMixin
from revops.api.errors import Unprocessable
from revops.selectors.search import external_ids
from revops.services.usage import usage_record


class _ReadOnly(ApiMixin, viewsets.ReadOnlyModelViewSet):
    lookup_value_converter = "int"
    detail_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class


class CustomerViewSet(_ReadOnly):
    read_perm = "revops.view_customer"
    queryset = m.Customer.objects.select_related("legal_entity")
    serializer_class = s.CustomerSerializer
    detail_serializer_class = s.CustomerDetailSerializer
    filterset_class = filters.CustomerFilter
    ordering_fields = ["id", "name", "number", "created_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related("contacts") if self.action == "retrieve" else qs


class ContractViewSet(_ReadOnly):
    read_perm = "revops.view_contract"
    queryset = m.Contract.objects.all()
    serializer_class = s.ContractSerializer
    detail_serializer_class = s.ContractDetailSerializer
    filterset_class = filters.ContractFilter
    ordering_fields = ["id", "start_date", "number", "created_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            lines = m.ContractLine.objects.select_related("product").order_by("effective_from", "id")
            qs = qs.prefetch_related(Prefetch("lines", lines), "amendments")
        return qs


class LookupQuery(serializers.Serializer):
    ref = serializers.CharField(max_length=255, help_text="Invoice number or any external id")
    legal_entity = serializers.CharField(
        max_length=20, required=False, help_text="Legal entity code, when numbers repeat across entities"
    )


class InvoiceViewSet(_ReadOnly):
    read_perm = "revops.view_invoice"
    queryset = m.Invoice.objects.select_related("legal_entity")
    serializer_class = s.InvoiceSerializer
    detail_serializer_class = s.InvoiceDetailSerializer
    filterset_class = filters.InvoiceFilter
    ordering_fields = ["id", "issue_date", "due_date", "number", "created_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action in ("retrieve", "lookup"):
            qs = qs.prefetch_related(Prefetch("lines", m.InvoiceLine.objects.select_related("product")))
        return qs

    @extend_schema(
        parameters=[LookupQuery],
        responses={200: s.InvoiceDetailSerializer},
        description="One invoice by its number or by the id any other system knows it by "
        "(a Stripe in_…, an ERP id): with its status and amount due.",
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request):
        query = LookupQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        ref = query.validated_data["ref"]
        qs = self.get_queryset().filter(Q(number=ref) | Q(pk__in=external_ids(m.Invoice, ref)))
        entity = query.validated_data.get("legal_entity", "")
        if entity:
            qs = qs.filter(legal_entity__code=entity)
        found = list(qs[:5])
        if not found:
            raise NotFound(f"No invoice is numbered or known as {ref!r}.")
        if len(found) > 1:
            entities = ", ".join(sorted({invoice.legal_entity.code for invoice in found}))
            message = f"{ref!r} names invoices of several legal entities ({entities}); choose one."
            raise Unprocessable({"legal_entity": [message]})
        return Response(s.InvoiceDetailSerializer(found[0], context=self.get_serializer_context()).data)


class CreditNoteViewSet(_ReadOnly):
    read_perm = "revops.view_creditnote"
    queryset = m.CreditNote.objects.select_related("legal_entity").prefetch_related("lines")
    serializer_class = s.CreditNoteSerializer
    filterset_class = filters.CreditNoteFilter
    ordering_fields = ["id", "issue_date", "number"]


class PaymentViewSet(_ReadOnly):
    read_perm = "revops.view_payment"
    queryset = m.Payment.objects.select_related("legal_entity")
    serializer_class = s.PaymentSerializer
    detail_serializer_class = s.PaymentDetailSerializer
    filterset_class = filters.PaymentFilter
    ordering_fields = ["id", "received_date", "number", "created_at"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            apps = m.PaymentApplication.objects.select_related("invoice").order_by("applied_date", "id")
            qs = qs.prefetch_related(Prefetch("applications", apps))
        return qs


class UsageViewSet(ApiMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    read_perm = "revops.view_usagerecord"
    write_perm = "revops.add_usagerecord"
    lookup_value_converter = "int"
    queryset = m.UsageRecord.objects.all()
    serializer_class = s.UsageSerializer
    filterset_class = filters.UsageFilter
    ordering_fields = ["id", "usage_at"]

    def get_serializer_class(self):
        return s.UsageCreateSerializer if self.action == "create" else s.UsageSerializer

    @extend_schema(
        request=s.UsageCreateSerializer,
        responses={201: s.UsageSerializer, 200: s.UsageSerializer},
        description="Record metered usage, once per (source, source_event_id): sending an event "
        "again answers 200 with the usage as first recorded and changes nothing.",
    )
    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        line = (
            m.ContractLine.objects.select_related("contract").filter(pk=values.pop("contract_line")).first()
        )
        if line is None:
            raise Unprocessable({"contract_line": ["No contract line has this id."]})
        record, created = usage_record(
            contract_line=line,
            actor=Actor.for_user(request.user),
            late_treatment=values.pop("late_treatment", "") or "",
            **values,
        )
        return Response(
            s.UsageSerializer(record).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class BusinessEventViewSet(_ReadOnly):
    """Business events: filter by `correlation_id` to follow one quote-to-cash flow."""

    read_perm = "revops.view_businessevent"
    queryset = m.BusinessEvent.objects.select_related("subject_type")
    serializer_class = s.BusinessEventSerializer
    filterset_class = filters.BusinessEventFilter
    ordering_fields = ["id", "occurred_at"]
