"""Query filters of the canonical resources (django-filter): a bad value is a
400 naming the parameter, never ignored."""

from __future__ import annotations

import django_filters as df

from revops import models as m
from revops.selectors.customers import customer_search
from revops.selectors.search import document_search


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


class ContractFilter(_Search):
    class Meta:
        model = m.Contract
        fields = ["status", "customer", "currency", "billing_frequency"]


class InvoiceFilter(_Search):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    issued_from = df.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = df.DateFilter(field_name="issue_date", lookup_expr="lte")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lt")
    correlation_id = df.UUIDFilter()

    class Meta:
        model = m.Invoice
        fields = ["status", "customer", "contract", "currency"]


class CreditNoteFilter(df.FilterSet):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    issued_from = df.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = df.DateFilter(field_name="issue_date", lookup_expr="lte")

    class Meta:
        model = m.CreditNote
        fields = ["status", "customer", "invoice", "currency"]


class PaymentFilter(_Search):
    legal_entity = df.CharFilter(field_name="legal_entity__code", max_length=20)
    received_from = df.DateFilter(field_name="received_date", lookup_expr="gte")
    received_to = df.DateFilter(field_name="received_date", lookup_expr="lte")

    class Meta:
        model = m.Payment
        fields = ["status", "customer", "method", "currency"]


class UsageFilter(df.FilterSet):
    contract = df.NumberFilter(field_name="contract_line__contract", min_value=1)
    usage_from = df.IsoDateTimeFilter(field_name="usage_at", lookup_expr="gte")
    usage_to = df.IsoDateTimeFilter(field_name="usage_at", lookup_expr="lte")

    class Meta:
        model = m.UsageRecord
        fields = ["contract_line", "source", "source_event_id"]


class BusinessEventFilter(df.FilterSet):
    occurred_from = df.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = df.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = m.BusinessEvent
        fields = ["correlation_id", "type", "source"]
