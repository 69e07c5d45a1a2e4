"""The tax rate table: jurisdictions as invoice lines name them, and the rate
components (state, county, city, special district, national VAT) that make up
each jurisdiction's rate over time.

An invoice line's `tax_jurisdiction` is looked up by `TaxJurisdiction.code`;
the components valid on the invoice's issue date give the expected tax. Rates
are percentages (7.75, not 0.0775). Admin-managed and history-tracked.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from revops.models.base import TimestampedModel, rate_field, tracked
from revops.models.parties import LegalEntity


class TaxJurisdiction(TimestampedModel):
    code = models.CharField(
        max_length=100,
        unique=True,
        help_text="Exactly as invoice lines name it in their tax jurisdiction, e.g. US-CA-92615",
    )
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=100, blank=True, help_text="State or region, e.g. CA")
    legal_entity = models.ForeignKey(
        LegalEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tax_jurisdictions",
        help_text="Only for this legal entity's invoices; empty means every entity",
    )
    notes = models.CharField(max_length=300, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["country", "region", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="tax_jurisdiction_code_not_blank"),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="tax_jurisdiction_country_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class TaxRateComponent(TimestampedModel):
    class Type(models.TextChoices):
        COUNTRY = "country", "National (e.g. VAT)"
        STATE = "state", "State"
        COUNTY = "county", "County"
        CITY = "city", "City"
        SPECIAL = "special", "Special district"

    jurisdiction = models.ForeignKey(TaxJurisdiction, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=100, help_text='The tax, e.g. "CA STATE TAX"')
    authority = models.CharField(
        max_length=200, blank=True, help_text='Who levies it, e.g. "CALIFORNIA" or "ORANGE"'
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    rate = rate_field(help_text="Percent, e.g. 6.25")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day the rate applies; empty: open")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["jurisdiction", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="tax_component_rate_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="tax_component_validity_ordered",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="tax_component_name_not_blank"),
            models.CheckConstraint(
                condition=Q(type__in=["country", "state", "county", "city", "special"]),
                name="tax_component_type_known",
            ),
        ]
        indexes = [models.Index(fields=["jurisdiction", "valid_from"], name="tax_component_valid")]

    def __str__(self) -> str:
        return f"{self.name} {self.rate} %"

    def applies_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
