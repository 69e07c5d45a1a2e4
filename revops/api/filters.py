"""Query filters of the canonical resources (django-filter): a bad value is a
400 naming the parameter, never ignored."""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from revops import models as m
from revops.selectors.customers import customer_search
from revops.selectors.search import document_search


class UtcDateTimeFilter(df.IsoDateTimeFilter):
    """An ISO 8601 time with any offset, compared in UTC (PostgreSQL refuses
    offsets beyond ±15:59 that Python accepts)."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:
                raise ValidationError({self.field_name: ["This time is out of range."]}) from None
        return super().filter(qs, value)


class _Search(df.FilterSet):
    q = df.CharFilter(
        method="search", max_length=255, label="Number, customer name or number, or external id"
    )

    def search(self, queryset, name, value):
        return queryset.filter(document_search(queryset.model, value))


class CustomerFilter(df.FilterSet):
    q = df.CharFilter(method="search", max_length=255, label="Number, part of the name, or external id")
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)

    class Meta:
        model = m.Customer
        fields = ["status", "currency", "country"]

    def search(self, queryset, name, value):
        return queryset.filter(customer_search(value))


MAX_ID = 2**62


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that a typed parameter sent empty, or a yes/no
    parameter that is neither true nor false, is a 400 rather than ignored."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            errors = {}
            for name, flt in filterset.filters.items():
                if name not in request.query_params:
                    continue
                value = request.query_params.get(name)
                if isinstance(flt, df.BooleanFilter) and value not in ("true", "false"):
                    errors[name] = ["Give true or false."]
                elif value == "" and not isinstance(flt, df.CharFilter):
                    errors[name] = ["Give a value, or leave the parameter out."]
            if errors:
                raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(df.NumberFilter):
    field_class = forms.IntegerField


def _id(field_name: str) -> IdFilter:
    """A related record by id: an unknown id matches nothing (an empty page), as
    any other filter value that matches nothing does."""
    return IdFilter(field_name=field_name, min_value=1, max_value=MAX_ID)


class ContractFilter(_Search):
    customer = _id("customer_id")

    class Meta:
        model = m.Contract
        fields = ["status", "currency", "billing_frequency"]


class InvoiceFilter(_Search):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    issued_from = df.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = df.DateFilter(field_name="issue_date", lookup_expr="lte")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lt")
    correlation_id = df.UUIDFilter()
    customer = _id("customer_id")
    contract = _id("contract_id")

    class Meta:
        model = m.Invoice
        fields = ["status", "currency"]


class CreditNoteFilter(df.FilterSet):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    issued_from = df.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = df.DateFilter(field_name="issue_date", lookup_expr="lte")
    customer = _id("customer_id")
    invoice = _id("invoice_id")

    class Meta:
        model = m.CreditNote
        fields = ["status", "currency"]


class PaymentFilter(_Search):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    received_from = df.DateFilter(field_name="received_date", lookup_expr="gte")
    received_to = df.DateFilter(field_name="received_date", lookup_expr="lte")
    customer = _id("customer_id")

    class Meta:
        model = m.Payment
        fields = ["status", "method", "currency"]


class UsageFilter(df.FilterSet):
    contract = _id("contract_line__contract_id")
    contract_line = _id("contract_line_id")
    usage_from = UtcDateTimeFilter(field_name="usage_at", lookup_expr="gte")
    usage_to = UtcDateTimeFilter(field_name="usage_at", lookup_expr="lte")

    class Meta:
        model = m.UsageRecord
        fields = ["source", "source_event_id"]


class BusinessEventFilter(df.FilterSet):
    occurred_from = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = m.BusinessEvent
        fields = ["correlation_id", "type", "source"]
