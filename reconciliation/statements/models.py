"""Imported bank statements: the file as received, each statement in it with
its booked and available balances, and each entry (a movement on the account)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reconciliation.statements.parsers.types import BOOKED, CREDIT, DEBIT, FORMATS, PENDING
from revops.models.base import currency_check, currency_field, tracked

FORMAT_CHOICES = [
    ("camt.052", "camt.052"),
    ("camt.053", "camt.053"),
    ("camt.054", "camt.054"),
    ("bai2", "BAI2"),
    ("mt940", "MT940"),
    ("mt942", "MT942"),
]
AMOUNT_DIGITS, AMOUNT_PLACES = 18, 2


def amount_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs)


class StatementFile(models.Model):
    """A file as uploaded; its sha256 makes uploading it twice change nothing."""

    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10, choices=FORMAT_CHOICES)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_label = models.CharField(max_length=200, help_text="Who imported it: a user or a command.")
    uploaded_at = models.DateTimeField(default=timezone.now)
    summary = models.JSONField(default=dict, blank=True)

    history = tracked()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="statement_file_sha256_unique"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="statement_file_sha256_hex"
            ),
            models.CheckConstraint(condition=Q(format__in=FORMATS), name="statement_file_format_known"),
        ]

    def __str__(self) -> str:
        return self.original_name


class BankStatement(models.Model):
    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="statements")
    format = models.CharField(max_length=10, choices=FORMAT_CHOICES)
    account = models.CharField(max_length=70, help_text="IBAN or the bank's account number.")
    currency = currency_field()
    bank_statement_id = models.CharField(max_length=140)
    sequence = models.CharField(max_length=40, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    opening_balance = amount_field(null=True, blank=True)
    opening_date = models.DateField(null=True, blank=True)
    closing_balance = amount_field(null=True, blank=True)
    closing_date = models.DateField(null=True, blank=True)
    closing_available = amount_field(null=True, blank=True)
    closing_available_date = models.DateField(null=True, blank=True)
    forward_available = amount_field(null=True, blank=True)
    forward_available_date = models.DateField(null=True, blank=True)
    entry_count = models.PositiveIntegerField(default=0)
    credit_total = amount_field(default=0)
    debit_total = amount_field(default=0)
    # None: the bank reported no booked balances to check the entries against.
    balanced = models.BooleanField(null=True)
    balance_note = models.CharField(max_length=300, blank=True)
    # Read by the reconciliation engine: entries of a statement that does not
    # balance are not matched automatically.
    reconcilable = models.BooleanField(default=True)
    legal_entity = models.ForeignKey(
        "revops.LegalEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="bank_statements"
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = tracked()

    class Meta:
        ordering = ["-period_end", "account", "-id"]
        indexes = [models.Index(fields=["account", "-period_end"], name="bank_statement_account_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "bank_statement_id", "period_end"], name="bank_statement_unique_per_period"
            ),
            currency_check("currency", "bank_statement_currency_iso"),
            models.CheckConstraint(condition=Q(format__in=FORMATS), name="bank_statement_format_known"),
            models.CheckConstraint(condition=~Q(account=""), name="bank_statement_account_not_blank"),
            models.CheckConstraint(
                condition=Q(credit_total__gte=0, debit_total__gte=0),
                name="bank_statement_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(balanced__isnull=True)
                | Q(opening_balance__isnull=False, closing_balance__isnull=False),
                name="bank_statement_balanced_needs_balances",
            ),
            models.CheckConstraint(
                condition=~Q(balanced=False, reconcilable=True),
                name="bank_statement_unbalanced_not_reconcilable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period_end.isoformat()} ({self.bank_statement_id})"

    @property
    def expected_closing(self):
        if self.opening_balance is None:
            return None
        return self.opening_balance + self.credit_total - self.debit_total


class BankEntry(models.Model):
    class Direction(models.TextChoices):
        CREDIT = CREDIT, "Credit"
        DEBIT = DEBIT, "Debit"

    class Status(models.TextChoices):
        BOOKED = BOOKED, "Booked"
        PENDING = PENDING, "Pending"

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="entries")
    sequence = models.PositiveIntegerField(help_text="Position of the entry in its statement, from 1.")
    booking_date = models.DateField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    amount = amount_field(help_text="Always positive; the direction says which way the money moved.")
    direction = models.CharField(max_length=6, choices=Direction.choices)
    currency = currency_field()
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.BOOKED)
    end_to_end_id = models.CharField(max_length=140, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    structured_reference = models.CharField(max_length=140, blank=True)
    remittance_info = models.TextField(blank=True)
    counterparty_name = models.CharField(max_length=140, blank=True)
    counterparty_account = models.CharField(max_length=70, blank=True)
    bank_transaction_code = models.CharField(max_length=40, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    history = tracked()

    class Meta:
        ordering = ["statement", "sequence"]
        verbose_name_plural = "bank entries"
        indexes = [
            models.Index(fields=["end_to_end_id"], name="bank_entry_end_to_end_idx"),
            models.Index(fields=["structured_reference"], name="bank_entry_structured_ref_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["statement", "sequence"], name="bank_entry_unique_sequence"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bank_entry_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(direction__in=[CREDIT, DEBIT]), name="bank_entry_direction_known"
            ),
            models.CheckConstraint(condition=Q(status__in=[BOOKED, PENDING]), name="bank_entry_status_known"),
            currency_check("currency", "bank_entry_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.amount} {self.currency} on {self.booking_date}"

    @property
    def signed_amount(self):
        return self.amount if self.direction == CREDIT else -self.amount

    @property
    def batch_transactions(self) -> list[dict]:
        return batch_transactions(self.raw)


def batch_transactions(raw) -> list[dict]:
    """The transactions of a batch entry (one booking, several payers), as the camt
    file listed them in the entry's `raw`; empty for an ordinary entry. Each has its
    amount, currency, party, references and remittance text."""
    if isinstance(raw, str):  # JSON read with plain SQL on SQLite comes back as text
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    transactions = raw.get("transactions") if isinstance(raw, dict) else None
    if not isinstance(transactions, list) or len(transactions) < 2:
        return []
    rows = []
    for tx in transactions:
        if not isinstance(tx, dict):
            continue
        end_to_end = tx.get("end_to_end_id") or ""
        references = [tx.get("structured_reference") or "", "" if end_to_end == "NOTPROVIDED" else end_to_end]
        rows.append(
            {
                "amount": tx.get("amount") or "",
                "currency": tx.get("currency") or "",
                "party": tx.get("debtor") or tx.get("creditor") or "",
                "references": " ".join(ref for ref in references if ref),
                "remittance_info": tx.get("remittance_info") or "",
            }
        )
    return rows
