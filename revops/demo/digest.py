"""A fingerprint of the demo data's business content: numbers, dates, amounts,
statuses and external ids, never database ids, timestamps or random uuids, so
two loads on empty databases with the same seed give the same digest."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from revops import models as m
from revops.demo.context import DEMO_ENTITY_CODES

_SIX_PLACES = Decimal("0.000001")


def _plain(value):
    if isinstance(value, Decimal):
        return str(value.quantize(_SIX_PLACES))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(queryset, *fields) -> list[list]:
    return [[_plain(v) for v in row] for row in queryset.order_by(*fields).values_list(*fields)]


def demo_digest() -> str:
    entity = {"legal_entity__code__in": DEMO_ENTITY_CODES}
    customer_entity = {"customer__legal_entity__code__in": DEMO_ENTITY_CODES}
    parts = {
        "entities": _rows(
            m.LegalEntity.objects.filter(code__in=DEMO_ENTITY_CODES),
            "code",
            "name",
            "country",
            "functional_currency",
            "tax_registration_number",
        ),
        "customers": _rows(
            m.Customer.objects.filter(**entity),
            "number",
            "name",
            "status",
            "currency",
            "payment_terms_days",
            "address_line1",
            "city",
            "region",
            "postal_code",
            "country",
            "tax_id",
            "tax_country",
            "tax_exempt",
            "exemption_certificate",
        ),
        "contacts": _rows(
            m.CustomerContact.objects.filter(**customer_entity),
            "customer__number",
            "email",
            "name",
            "phone",
            "is_primary",
        ),
        "prices": _rows(
            m.Price.objects.all(), "product__sku", "currency", "active_from", "active_to", "unit_amount"
        ),
        "contracts": _rows(
            m.Contract.objects.filter(**customer_entity),
            "number",
            "customer__number",
            "status",
            "start_date",
            "end_date",
            "billing_frequency",
            "currency",
        ),
        "contract_lines": _rows(
            m.ContractLine.objects.filter(contract__customer__legal_entity__code__in=DEMO_ENTITY_CODES),
            "contract__number",
            "effective_from",
            "product__sku",
            "quantity",
            "unit_price",
            "effective_to",
            "amendment__sequence",
            "ended_by__sequence",
        ),
        "amendments": _rows(
            m.ContractAmendment.objects.filter(contract__customer__legal_entity__code__in=DEMO_ENTITY_CODES),
            "contract__number",
            "sequence",
            "effective_date",
            "reason",
        ),
        "usage": _rows(
            m.UsageRecord.objects.filter(
                contract_line__contract__customer__legal_entity__code__in=DEMO_ENTITY_CODES
            ),
            "source_event_id",
            "quantity",
            "period_start",
            "period_end",
            "usage_at",
        ),
        "invoices": _rows(
            m.Invoice.objects.filter(**entity),
            "number",
            "customer__number",
            "contract__number",
            "status",
            "tax_mode",
            "issue_date",
            "due_date",
            "subtotal",
            "tax_total",
            "total",
            "amount_paid",
            "amount_credited",
            "amount_due",
            "memo",
        ),
        "invoice_lines": _rows(
            m.InvoiceLine.objects.filter(invoice__legal_entity__code__in=DEMO_ENTITY_CODES),
            "invoice__number",
            "line_number",
            "description",
            "quantity",
            "unit_amount",
            "amount",
            "tax_amount",
            "tax_rate",
            "tax_jurisdiction",
        ),
        "credit_notes": _rows(
            m.CreditNote.objects.filter(**entity),
            "number",
            "invoice__number",
            "issue_date",
            "reason",
            "subtotal",
            "tax_total",
            "total",
        ),
        "payments": _rows(
            m.Payment.objects.filter(**entity),
            "number",
            "customer__number",
            "status",
            "amount",
            "amount_applied",
            "received_date",
            "method",
            "gateway",
            "gateway_reference",
        ),
        "applications": _rows(
            m.PaymentApplication.objects.filter(payment__legal_entity__code__in=DEMO_ENTITY_CODES),
            "payment__number",
            "invoice__number",
            "amount",
            "applied_date",
            "status",
        ),
        "external_refs": _rows(m.ExternalRef.objects.all(), "system", "object_type", "external_id"),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
