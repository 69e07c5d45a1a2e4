"""Contracts (subscriptions), their lines with effective dates, amendments and usage.

The past is never overwritten: an amendment closes the current line's
effective range and adds a successor line that names what it replaces.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from revops.models.base import (
    TimestampedModel,
    currency_check,
    currency_field,
    money_field,
    quantity_field,
    tracked,
)
from revops.models.catalog import Product
from revops.models.parties import Customer


class Contract(TimestampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class BillingFrequency(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUAL = "annual", "Annual"

    number = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Inclusive; empty means evergreen")
    billing_frequency = models.CharField(max_length=16, choices=BillingFrequency.choices)
    currency = currency_field()
    entitlement_reference = models.CharField(max_length=100, blank=True)
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            currency_check("currency", "contract_currency_iso"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contract_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(activated_at__isnull=False),
                name="contract_active_has_activation_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="contract_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-start_date", "-id"], name="contract_status_start"),
            models.Index(fields=["customer", "-start_date", "-id"], name="contract_customer_start"),
            models.Index(fields=["-start_date", "-id"], name="contract_start_id"),
        ]

    def __str__(self) -> str:
        return self.number


class ContractAmendment(TimestampedModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="amendments")
    sequence = models.PositiveIntegerField()
    effective_date = models.DateField()
    reason = models.CharField(max_length=300)
    made_by = models.CharField(max_length=200, help_text="Who or which system made the amendment")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="amendment_sequence_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="amendment_sequence_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} amendment {self.sequence}"


class ContractLine(TimestampedModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contract_lines")
    quantity = quantity_field()
    unit_price = money_field()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty means open-ended")
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    amendment = models.ForeignKey(
        ContractAmendment, null=True, blank=True, on_delete=models.PROTECT, related_name="added_lines"
    )
    ended_by = models.ForeignKey(
        ContractAmendment, null=True, blank=True, on_delete=models.PROTECT, related_name="ended_lines"
    )

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["contract", "effective_from", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="contract_line_quantity_not_negative"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="contract_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="contract_line_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.product.sku} × {self.quantity}"

    def is_effective_on(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class UsageRecord(models.Model):
    """One metered usage event. Usage that arrives after its period was invoiced
    (see revops.selectors.usage) is recorded only with a late treatment, which
    names the invoice that had closed the period and the invoice line that bills it."""

    class LateTreatment(models.TextChoices):
        NEXT_PERIOD = "next_period", "Billed in the next period as an adjustment"
        CREDIT_REBILL = "credit_rebill", "Invoice credited and the period re-billed"

    contract_line = models.ForeignKey(ContractLine, on_delete=models.PROTECT, related_name="usage")
    quantity = quantity_field()
    usage_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField()
    source = models.CharField(max_length=64)
    source_event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    late_treatment = models.CharField(max_length=16, choices=LateTreatment.choices, blank=True, default="")
    closed_by_invoice = models.ForeignKey(
        "revops.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="late_usage",
        help_text="The issued invoice that had closed the usage's period when it arrived",
    )
    billed_on = models.ForeignKey(
        "revops.InvoiceLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_billed",
        help_text="The adjustment or re-bill line that bills this late usage",
    )

    history = tracked(no_db_index=["closed_by_invoice", "billed_on"])

    class Meta:
        ordering = ["-usage_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_event_id"], name="usage_source_event_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="usage_quantity_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="usage_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(late_treatment="", closed_by_invoice__isnull=True)
                | Q(
                    late_treatment__in=["next_period", "credit_rebill"],
                    closed_by_invoice__isnull=False,
                    billed_on__isnull=False,
                ),
                name="usage_late_names_its_invoices",
            ),
        ]
        indexes = [models.Index(fields=["contract_line", "period_start"], name="usage_line_period")]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_event_id} {self.quantity}"
