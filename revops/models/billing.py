"""Invoices and credit notes.

Header invariants are database constraints: the total follows the tax mode
(exclusive: subtotal + tax; inclusive: the subtotal already contains the tax),
and amount due is always total − paid − credited, never negative.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact

from revops.models.base import (
    TimestampedModel,
    currency_check,
    currency_field,
    money_field,
    quantity_field,
    rate_field,
    tracked,
)
from revops.models.catalog import Product
from revops.models.contracts import Contract, ContractLine
from revops.models.parties import Customer, LegalEntity
from revops.money import AMOUNT_PLACES


class TaxMode(models.TextChoices):
    EXCLUSIVE = "exclusive", "Tax exclusive"
    INCLUSIVE = "inclusive", "Tax inclusive"


def equals_rounded(left, right) -> Exact:
    """left = right, compared at the stored precision. SQLite evaluates decimal
    arithmetic in binary floating point (3790.00 + 274.78 is not 4064.78
    there), so both sides are rounded to the stored places before comparing;
    on PostgreSQL the rounding is exact and changes nothing."""
    return Exact(Round(left, AMOUNT_PLACES), Round(right, AMOUNT_PLACES))


def _total_follows_tax_mode(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(equals_rounded(F("total"), F("subtotal") + F("tax_total")), tax_mode=TaxMode.EXCLUSIVE)
            | Q(tax_mode=TaxMode.INCLUSIVE, total=F("subtotal"), tax_total__lte=F("subtotal"))
        ),
        name=name,
    )


class Invoice(TimestampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"

    number = models.CharField(max_length=40)
    # Customer and legal entity have no index of their own: invoice_customer_issued
    # and invoice_number_unique_per_entity start with them, and every index is one
    # more entry for each invoice a sync writes.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices", db_index=False)
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    currency = currency_field()
    issue_date = models.DateField()
    due_date = models.DateField()
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    tax_mode = models.CharField(max_length=10, choices=TaxMode.choices, default=TaxMode.EXCLUSIVE)
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    amount_paid = money_field(default=0)
    amount_credited = money_field(default=0)
    amount_due = money_field()
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    memo = models.CharField(max_length=300, blank=True)

    # History rows are read by object id and date only: no other index to keep up.
    history = tracked(
        excluded_fields=["updated_at"],
        no_db_index=["customer", "contract", "legal_entity", "correlation_id"],
    )

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "number"], name="invoice_number_unique_per_entity"
            ),
            currency_check("currency", "invoice_currency_iso"),
            _total_follows_tax_mode("invoice_total_follows_tax_mode"),
            models.CheckConstraint(condition=Q(tax_total__gte=0), name="invoice_tax_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    equals_rounded(F("amount_due"), F("total") - F("amount_paid") - F("amount_credited"))
                )
                | Q(status="void", amount_due=0),
                name="invoice_amount_due_balances",
            ),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="invoice_amount_due_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_credited__gte=0),
                name="invoice_settlements_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(amount_due=0), name="invoice_paid_means_nothing_due"
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | Q(amount_paid=0), name="invoice_void_has_no_payments"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="invoice_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-issue_date", "-id"], name="invoice_status_issued"),
            models.Index(
                fields=["legal_entity", "status", "-issue_date"], name="invoice_entity_status_issued"
            ),
            models.Index(fields=["customer", "-issue_date", "-id"], name="invoice_customer_issued"),
            models.Index(fields=["-issue_date", "-id"], name="invoice_issued_id"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
            models.Index(fields=["due_date", "id"], name="invoice_due_id"),
            models.Index(fields=["number"], name="invoice_number"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contract_line = models.ForeignKey(
        ContractLine, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    description = models.CharField(max_length=300)
    quantity = quantity_field()
    unit_amount = money_field()
    amount = money_field(help_text="In the invoice's tax mode: includes tax when the invoice is inclusive")
    tax_amount = money_field(default=0)
    tax_rate = rate_field(default=0, help_text="Percent, e.g. 7.75")
    tax_jurisdiction = models.CharField(max_length=100, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    # History rows are read by id, invoice and date only: no other index to keep up.
    history = tracked(no_db_index=["product", "contract_line"])

    class Meta:
        ordering = ["invoice", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_number"], name="invoice_line_number_unique"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="invoice_line_tax_not_negative"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lte=100), name="invoice_line_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice.number}/{self.line_number}"


class CreditNote(TimestampedModel):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        VOID = "void", "Void"

    number = models.CharField(max_length=40)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="credit_notes")
    currency = currency_field()
    issue_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    reason = models.CharField(max_length=300)
    tax_mode = models.CharField(max_length=10, choices=TaxMode.choices)
    subtotal = money_field()
    tax_total = money_field()
    total = money_field()
    correlation_id = models.UUIDField(db_index=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["legal_entity", "number"], name="credit_note_number_unique_per_entity"
            ),
            currency_check("currency", "credit_note_currency_iso"),
            _total_follows_tax_mode("credit_note_total_follows_tax_mode"),
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive"),
            models.CheckConstraint(condition=Q(tax_total__gte=0), name="credit_note_tax_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "-issue_date"], name="credit_note_customer_issued")]

    def __str__(self) -> str:
        return self.number


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )
    description = models.CharField(max_length=300)
    amount = money_field()
    tax_amount = money_field(default=0)

    history = tracked()

    class Meta:
        ordering = ["credit_note", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_note", "line_number"], name="credit_note_line_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_line_amount_positive"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="credit_note_line_tax_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_note.number}/{self.line_number}"
