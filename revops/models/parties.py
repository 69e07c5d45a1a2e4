"""Legal entities, customers (accounts) and their billing contacts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from revops.models.base import TimestampedModel, currency_check, currency_field, tracked


class LegalEntity(TimestampedModel):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    functional_currency = currency_field()
    tax_registration_number = models.CharField(max_length=40, blank=True)

    history = tracked()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "legal entities"
        constraints = [
            currency_check("functional_currency", "legal_entity_currency_iso"),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="legal_entity_country_iso"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="legal_entity_code_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Customer(TimestampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        CLOSED = "closed", "Closed"

    number = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    # No index of its own: customer_entity_status_name starts with it, and every
    # index is one more entry for each customer a sync writes.
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="customers", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    currency = currency_field()
    payment_terms_days = models.PositiveSmallIntegerField(default=30)

    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")

    tax_id = models.CharField("tax id", max_length=40, blank=True)
    tax_country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    tax_region = models.CharField("tax region", max_length=100, blank=True)
    tax_exempt = models.BooleanField(default=False)
    exemption_certificate = models.CharField("exemption certificate reference", max_length=100, blank=True)

    # History rows are read by object id and date only: no other index to keep up.
    history = tracked(excluded_fields=["updated_at"], no_db_index=["legal_entity", "number"])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            currency_check("currency", "customer_currency_iso"),
            models.CheckConstraint(condition=Q(country__regex=r"^[A-Z]{2}$"), name="customer_country_iso"),
            models.CheckConstraint(
                condition=Q(tax_exempt=False) | ~Q(exemption_certificate=""),
                name="customer_exempt_needs_certificate",
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=365), name="customer_terms_at_most_a_year"
            ),
            models.CheckConstraint(condition=~Q(number=""), name="customer_number_not_blank"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_id"),
            models.Index(fields=["legal_entity", "status", "name", "id"], name="customer_entity_status_name"),
            models.Index(fields=["status", "name", "id"], name="customer_status_name"),
            models.Index(Upper("name"), name="customer_upper_name"),
        ]
        permissions = [("override_ownership", "Can override field ownership rules with a reason")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def primary_contact(self) -> CustomerContact | None:
        return next((c for c in self.contacts.all() if c.is_primary), None)


class CustomerContact(TimestampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. Accounts payable")
    is_primary = models.BooleanField(default=False)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="customer_one_primary_contact"
            ),
            models.UniqueConstraint(fields=["customer", "email"], name="customer_contact_email_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
