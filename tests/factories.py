"""factory_boy factories for the canonical domain.

They create rows directly (fast, for setting up reads); tests of behaviour call
the services instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from revops import models as m

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(PASSWORD)


class LegalEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.LegalEntity
        django_get_or_create = ("code",)

    code = "US01"
    name = "Acme Software Inc."
    country = "US"
    functional_currency = "USD"
    tax_registration_number = "12-3456789"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    number = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"Customer {n} LLC")
    legal_entity = factory.SubFactory(LegalEntityFactory)
    currency = "USD"
    country = "US"
    address_line1 = "1 Market St"
    city = "San Francisco"
    region = "CA"
    postal_code = "94105"
    tax_country = "US"
    tax_region = "CA"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CustomerContact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Payables Contact {n}")
    email = factory.Sequence(lambda n: f"ap{n}@customer.example")
    is_primary = False


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Platform seat {n}")
    revenue_category = m.Product.RevenueCategory.SUBSCRIPTION
    pricing_model = m.Product.PricingModel.PER_UNIT
    unit_label = "seat"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Contract

    number = factory.Sequence(lambda n: f"CT-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    billing_frequency = m.Contract.BillingFrequency.MONTHLY
    currency = "USD"


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An open, exclusive-tax invoice with no lines: 100.00 + 8.00 tax."""

    class Meta:
        model = m.Invoice

    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    legal_entity = factory.SelfAttribute("customer.legal_entity")
    currency = "USD"
    issue_date = dt.date(2026, 3, 1)
    due_date = dt.date(2026, 3, 31)
    status = m.Invoice.Status.OPEN
    subtotal = Decimal("100.00")
    tax_total = Decimal("8.00")
    total = Decimal("108.00")
    amount_due = Decimal("108.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Payment

    number = factory.Sequence(lambda n: f"PAY-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    legal_entity = factory.SelfAttribute("customer.legal_entity")
    amount = Decimal("108.00")
    currency = "USD"
    received_date = dt.date(2026, 3, 15)
    method = m.Payment.Method.BANK_TRANSFER
