"""Products and their prices per currency."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from revops.models.base import TimestampedModel, currency_check, currency_field, money_field, tracked


class Product(TimestampedModel):
    class RevenueCategory(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        USAGE = "usage", "Usage"
        PROFESSIONAL_SERVICES = "services", "Professional services"
        ONE_TIME = "one_time", "One-time"

    class PricingModel(models.TextChoices):
        FLAT = "flat", "Flat fee"
        PER_UNIT = "per_unit", "Per unit"
        TIERED = "tiered", "Tiered"
        USAGE = "usage", "Usage-based"

    sku = models.CharField("SKU", max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    revenue_category = models.CharField(max_length=20, choices=RevenueCategory.choices)
    pricing_model = models.CharField(max_length=20, choices=PricingModel.choices)
    unit_label = models.CharField(max_length=40, blank=True, help_text="e.g. seat, API call, GB")
    active = models.BooleanField(default=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_blank")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Price(TimestampedModel):
    """A price of a product in one currency over a date range.

    Flat and per-unit prices use `unit_amount`; tiered and usage prices may add
    `tiers`: a list of {"up_to": number or null, "unit_amount": "decimal"}.
    """

    class Interval(models.TextChoices):
        CONTRACT_PERIOD = "", "Per billing period of the contract"
        MONTH = "month", "Monthly"
        QUARTER = "quarter", "Quarterly"
        YEAR = "year", "Yearly"
        ONE_TIME = "one_time", "One-time"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices")
    currency = currency_field()
    billing_interval = models.CharField(max_length=10, choices=Interval.choices, default="", blank=True)
    unit_amount = money_field()
    tiers = models.JSONField(default=list, blank=True)
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty means open-ended")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["product", "currency", "-active_from"]
        constraints = [
            currency_check("currency", "price_currency_iso"),
            models.CheckConstraint(condition=Q(unit_amount__gte=0), name="price_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gt=F("active_from")),
                name="price_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["product", "currency", "billing_interval", "active_from"], name="price_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} {self.currency} {self.unit_amount}"
