"""How canonical records look in the API. Read-only except usage, whose
writes go through `revops.services.usage.usage_record`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from revops import models as m
from revops.selectors.search import external_refs_for


class ExternalIdSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.ExternalRef
        fields = ["system", "object_type", "external_id"]


class _WithExternalIds(serializers.ModelSerializer):
    external_ids = serializers.SerializerMethodField()

    @extend_schema_field(ExternalIdSerializer(many=True))
    def get_external_ids(self, obj):
        return ExternalIdSerializer(external_refs_for(obj), many=True).data


CUSTOMER_FIELDS = [
    "id",
    "number",
    "name",
    "legal_entity",
    "status",
    "currency",
    "payment_terms_days",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tax_id",
    "tax_country",
    "tax_region",
    "tax_exempt",
    "exemption_certificate",
    "created_at",
    "updated_at",
]


class LegalEntityField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="code", read_only=True, **kwargs)


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.CustomerContact
        fields = ["id", "name", "email", "phone", "role", "is_primary"]


class CustomerSerializer(serializers.ModelSerializer):
    legal_entity = LegalEntityField()

    class Meta:
        model = m.Customer
        fields = CUSTOMER_FIELDS


class CustomerDetailSerializer(_WithExternalIds):
    legal_entity = LegalEntityField()
    contacts = ContactSerializer(many=True, read_only=True)

    class Meta:
        model = m.Customer
        fields = [*CUSTOMER_FIELDS, "contacts", "external_ids"]


CONTRACT_FIELDS = [
    "id",
    "number",
    "customer",
    "status",
    "start_date",
    "end_date",
    "billing_frequency",
    "currency",
    "entitlement_reference",
    "correlation_id",
    "activated_at",
    "cancelled_at",
    "cancellation_reason",
    "created_at",
    "updated_at",
]


class ContractLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True)

    class Meta:
        model = m.ContractLine
        fields = [
            "id",
            "product",
            "quantity",
            "unit_price",
            "effective_from",
            "effective_to",
            "replaces",
            "amendment",
            "ended_by",
        ]


class AmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.ContractAmendment
        fields = ["id", "sequence", "effective_date", "reason", "made_by", "created_at"]


class ContractSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.Contract
        fields = CONTRACT_FIELDS


class ContractDetailSerializer(_WithExternalIds):
    lines = ContractLineSerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)

    class Meta:
        model = m.Contract
        fields = [*CONTRACT_FIELDS, "lines", "amendments", "external_ids"]


INVOICE_FIELDS = [
    "id",
    "number",
    "customer",
    "contract",
    "legal_entity",
    "currency",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "status",
    "tax_mode",
    "subtotal",
    "tax_total",
    "total",
    "amount_paid",
    "amount_credited",
    "amount_due",
    "correlation_id",
    "memo",
    "created_at",
    "updated_at",
]


class InvoiceLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True, allow_null=True)

    class Meta:
        model = m.InvoiceLine
        fields = [
            "line_number",
            "product",
            "contract_line",
            "description",
            "quantity",
            "unit_amount",
            "amount",
            "tax_amount",
            "tax_rate",
            "tax_jurisdiction",
            "period_start",
            "period_end",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    legal_entity = LegalEntityField()

    class Meta:
        model = m.Invoice
        fields = INVOICE_FIELDS


class InvoiceDetailSerializer(_WithExternalIds):
    legal_entity = LegalEntityField()
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = m.Invoice
        fields = [*INVOICE_FIELDS, "lines", "external_ids"]


class CreditNoteLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.CreditNoteLine
        fields = ["line_number", "invoice_line", "description", "amount", "tax_amount"]


class CreditNoteSerializer(serializers.ModelSerializer):
    legal_entity = LegalEntityField()
    lines = CreditNoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = m.CreditNote
        fields = [
            "id",
            "number",
            "invoice",
            "customer",
            "legal_entity",
            "currency",
            "issue_date",
            "status",
            "reason",
            "tax_mode",
            "subtotal",
            "tax_total",
            "total",
            "correlation_id",
            "lines",
        ]


class PaymentApplicationSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = m.PaymentApplication
        fields = ["id", "invoice", "invoice_number", "amount", "applied_date", "status", "reversed_at"]


PAYMENT_FIELDS = [
    "id",
    "number",
    "customer",
    "legal_entity",
    "amount",
    "currency",
    "amount_applied",
    "received_date",
    "method",
    "gateway",
    "gateway_reference",
    "status",
    "correlation_id",
    "memo",
    "created_at",
    "updated_at",
]


class PaymentSerializer(serializers.ModelSerializer):
    legal_entity = LegalEntityField()

    class Meta:
        model = m.Payment
        fields = PAYMENT_FIELDS


class PaymentDetailSerializer(_WithExternalIds):
    legal_entity = LegalEntityField()
    applications = PaymentApplicationSerializer(many=True, read_only=True)

    class Meta:
        model = m.Payment
        fields = [*PAYMENT_FIELDS, "applications", "external_ids"]


class UsageSerializer(serializers.ModelSerializer):
    class Meta:
        model = m.UsageRecord
        fields = [
            "id",
            "contract_line",
            "quantity",
            "usage_at",
            "period_start",
            "period_end",
            "source",
            "source_event_id",
            "received_at",
            "late_treatment",
            "closed_by_invoice",
            "billed_on",
        ]


class UsageCreateSerializer(serializers.Serializer):
    contract_line = serializers.IntegerField(
        min_value=1, max_value=2**62, help_text="Id of the contract line the usage is for"
    )
    quantity = serializers.RegexField(
        r"^\d{1,14}(\.\d{1,6})?$",
        max_length=21,
        help_text="A decimal string such as 1250.5 (never a float)",
        error_messages={
            "invalid": "Give the quantity as a decimal string such as 1250.5, at most 6 decimals."
        },
    )
    usage_at = serializers.DateTimeField()
    source = serializers.RegexField(
        r"^[a-z0-9][a-z0-9_.-]*$", max_length=64, default="api", help_text="The system the usage comes from"
    )
    source_event_id = serializers.CharField(max_length=200, help_text="Recorded once per source")
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    late_treatment = serializers.ChoiceField(
        choices=m.UsageRecord.LateTreatment.choices,
        required=False,
        allow_blank=True,
        help_text="For usage of a period already invoiced: how to bill it",
    )
    reason = serializers.CharField(max_length=300, required=False, default="Usage received through the API")


class BusinessEventSerializer(serializers.ModelSerializer):
    subject_type = serializers.SlugRelatedField(slug_field="model", read_only=True)

    class Meta:
        model = m.BusinessEvent
        fields = [
            "id",
            "type",
            "subject_type",
            "subject_id",
            "subject_label",
            "source",
            "actor",
            "occurred_at",
            "recorded_at",
            "correlation_id",
            "payload",
        ]
