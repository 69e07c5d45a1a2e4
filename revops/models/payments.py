"""Payments received and their applications to invoices."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from revops.models.base import TimestampedModel, currency_check, currency_field, money_field, tracked
from revops.models.billing import Invoice
from revops.models.parties import Customer, LegalEntity


class Payment(TimestampedModel):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        PARTIALLY_APPLIED = "partially_applied", "Partially applied"
        UNAPPLIED = "unapplied", "Unapplied"
        REVERSED = "reversed", "Reversed"

    class Method(models.TextChoices):
        CARD = "card", "Card"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        DIRECT_DEBIT = "direct_debit", "Direct debit"
        CHECK = "check", "Check"
        OTHER = "other", "Other"

    number = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text="Empty while the payer is not yet identified",
    )
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    currency = currency_field()
    received_date = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices)
    gateway = models.CharField(max_length=40, blank=True, help_text="e.g. stripe, bank")
    gateway_reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    amount_applied = money_field(default=0)
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    memo = models.CharField(max_length=300, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-received_date", "-id"]
        constraints = [
            currency_check("currency", "payment_currency_iso"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_applied__gte=0, amount_applied__lte=F("amount")),
                name="payment_applied_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(amount_applied=F("amount")),
                name="payment_applied_means_all",
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | Q(amount_applied=0),
                name="payment_reversed_has_no_applications",
            ),
            models.UniqueConstraint(
                fields=["gateway", "gateway_reference"],
                condition=~Q(gateway_reference=""),
                name="payment_gateway_reference_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-received_date", "-id"], name="payment_status_received"),
            models.Index(fields=["customer", "-received_date", "-id"], name="payment_customer_received"),
            models.Index(fields=["-received_date", "-id"], name="payment_received_id"),
            models.Index(fields=["legal_entity", "status", "-received_date"], name="payment_entity_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_unapplied(self):
        return self.amount - self.amount_applied


class PaymentApplication(TimestampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REVERSED = "reversed", "Reversed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="applications")
    amount = money_field()
    applied_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    reversed_at = models.DateTimeField(null=True, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["applied_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_application_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "invoice"],
                condition=Q(status="active"),
                name="payment_application_one_active_per_invoice",
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | Q(reversed_at__isnull=False),
                name="payment_application_reversal_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment.number} → {self.invoice.number}: {self.amount}"
