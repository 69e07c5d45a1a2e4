"""Every database invariant of the canonical model, attacked directly.

Each case writes around the services (plain ORM update or insert) and expects
the database itself to refuse, naming the constraint. Removing a constraint
makes its case fail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from revops import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def _breaks(constraint: str, action) -> None:
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        action()
    assert constraint in str(excinfo.value)


def _update(obj, **values):
    return lambda: type(obj).objects.filter(pk=obj.pk).update(**values)


@pytest.fixture
def invoice():
    return f.InvoiceFactory()


@pytest.fixture
def payment():
    return f.PaymentFactory()


# -- parties -------------------------------------------------------------------


def test_it_refuses_a_legal_entity_currency_that_is_not_iso():
    entity = f.LegalEntityFactory()
    _breaks("legal_entity_currency_iso", _update(entity, functional_currency="usd"))


def test_it_refuses_a_legal_entity_country_that_is_not_iso():
    _breaks("legal_entity_country_iso", _update(f.LegalEntityFactory(), country="us"))


def test_it_refuses_a_blank_legal_entity_code():
    _breaks("legal_entity_code_not_blank", _update(f.LegalEntityFactory(), code=""))


def test_it_refuses_a_customer_currency_that_is_not_iso():
    _breaks("customer_currency_iso", _update(f.CustomerFactory(), currency="US$"))


def test_it_refuses_a_customer_country_that_is_not_iso():
    _breaks("customer_country_iso", _update(f.CustomerFactory(), country="u"))


def test_it_refuses_a_tax_exemption_without_certificate():
    _breaks("customer_exempt_needs_certificate", _update(f.CustomerFactory(), tax_exempt=True))


def test_it_refuses_payment_terms_beyond_a_year():
    _breaks("customer_terms_at_most_a_year", _update(f.CustomerFactory(), payment_terms_days=400))


def test_it_refuses_a_blank_customer_number():
    _breaks("customer_number_not_blank", _update(f.CustomerFactory(), number=""))


def test_it_refuses_two_customers_with_one_number():
    customer = f.CustomerFactory()
    _breaks("number", lambda: f.CustomerFactory(number=customer.number))


def test_it_allows_only_one_primary_contact_per_customer():
    contact = f.ContactFactory(is_primary=True)
    _breaks(
        "customer_one_primary_contact",
        lambda: f.ContactFactory(customer=contact.customer, is_primary=True),
    )


def test_it_refuses_the_same_contact_email_twice_on_a_customer():
    contact = f.ContactFactory()
    _breaks(
        "customer_contact_email_unique",
        lambda: f.ContactFactory(customer=contact.customer, email=contact.email),
    )


# -- catalog ---------------------------------------------------------------------


def _price(**overrides):
    values = dict(
        product=f.ProductFactory(), currency="USD", unit_amount=Decimal("10"), active_from=dt.date(2026, 1, 1)
    )
    values.update(overrides)
    return m.Price.objects.create(**values)


def test_it_refuses_a_negative_price():
    _breaks("price_amount_not_negative", _update(_price(), unit_amount=Decimal("-1")))


def test_it_refuses_a_price_that_ends_before_it_starts():
    _breaks("price_dates_ordered", _update(_price(), active_to=dt.date(2025, 12, 31)))


def test_it_refuses_two_prices_starting_the_same_day():
    price = _price()
    _breaks("price_unique_start", lambda: _price(product=price.product))


def test_it_refuses_a_price_currency_that_is_not_iso():
    _breaks("price_currency_iso", _update(_price(), currency="eur"))


def test_it_refuses_a_blank_sku():
    _breaks("product_sku_not_blank", _update(f.ProductFactory(), sku=""))


# -- contracts -------------------------------------------------------------------


def _line(contract=None, **overrides):
    contract = contract or f.ContractFactory()
    values = dict(
        contract=contract,
        product=f.ProductFactory(),
        quantity=Decimal("5"),
        unit_price=Decimal("10"),
        effective_from=contract.start_date,
    )
    values.update(overrides)
    return m.ContractLine.objects.create(**values)


def test_it_refuses_a_contract_that_ends_before_it_starts():
    _breaks("contract_dates_ordered", _update(f.ContractFactory(), end_date=dt.date(2025, 1, 1)))


def test_it_refuses_an_active_contract_without_activation_time():
    _breaks("contract_active_has_activation_time", _update(f.ContractFactory(), status="active"))


def test_it_refuses_a_cancelled_contract_without_cancellation_time():
    _breaks("contract_cancelled_has_time", _update(f.ContractFactory(), status="cancelled"))


def test_it_refuses_a_contract_currency_that_is_not_iso():
    _breaks("contract_currency_iso", _update(f.ContractFactory(), currency="us1"))


def test_it_refuses_a_negative_contract_line_quantity():
    _breaks("contract_line_quantity_not_negative", _update(_line(), quantity=Decimal("-1")))


def test_it_refuses_a_negative_contract_line_price():
    _breaks("contract_line_price_not_negative", _update(_line(), unit_price=Decimal("-0.01")))


def test_it_refuses_a_contract_line_that_ends_when_it_starts():
    line = _line()
    _breaks("contract_line_dates_ordered", _update(line, effective_to=line.effective_from))


def test_it_refuses_two_successors_for_one_contract_line():
    old = _line()
    _line(contract=old.contract, replaces=old)
    _breaks("replaces", lambda: _line(contract=old.contract, replaces=old))


def test_it_refuses_two_amendments_with_one_sequence_number():
    contract = f.ContractFactory()
    values = dict(contract=contract, sequence=1, effective_date=dt.date(2026, 2, 1), reason="x", made_by="x")
    m.ContractAmendment.objects.create(**values)
    _breaks("amendment_sequence_unique", lambda: m.ContractAmendment.objects.create(**values))


def _usage(**overrides):
    values = dict(
        contract_line=_line(),
        quantity=Decimal("3"),
        usage_at=dt.datetime(2026, 2, 3, tzinfo=dt.UTC),
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 28),
        source="meter",
        source_event_id="evt_1",
    )
    values.update(overrides)
    return m.UsageRecord.objects.create(**values)


def test_it_refuses_the_same_usage_event_twice():
    first = _usage()
    _breaks("usage_source_event_unique", lambda: _usage(contract_line=first.contract_line))


def test_it_refuses_negative_usage():
    _breaks("usage_quantity_not_negative", _update(_usage(), quantity=Decimal("-2")))


def test_it_refuses_a_usage_period_that_ends_before_it_starts():
    _breaks("usage_period_ordered", _update(_usage(), period_end=dt.date(2026, 1, 1)))


def test_it_refuses_late_usage_that_does_not_name_its_invoices():
    usage = _usage()
    invoice = f.InvoiceFactory(customer=usage.contract_line.contract.customer)
    line = m.InvoiceLine.objects.create(
        invoice=invoice, line_number=1, description="Late usage", quantity=1, unit_amount=1, amount=1
    )
    _breaks("usage_late_names_its_invoices", _update(usage, late_treatment="next_period"))
    _breaks("usage_late_names_its_invoices", _update(usage, late_treatment="next_period", billed_on=line))
    _breaks("usage_late_names_its_invoices", _update(usage, closed_by_invoice=invoice, billed_on=line))
    _breaks(
        "usage_late_names_its_invoices",
        _update(usage, late_treatment="forgotten", closed_by_invoice=invoice, billed_on=line),
    )
    _update(usage, late_treatment="credit_rebill", closed_by_invoice=invoice, billed_on=line)()


# -- invoices ----------------------------------------------------------------------


def test_it_refuses_two_invoices_with_one_number_in_an_entity(invoice):
    _breaks(
        "invoice_number_unique_per_entity",
        lambda: f.InvoiceFactory(number=invoice.number, customer=invoice.customer),
    )


def test_it_refuses_an_exclusive_total_that_is_not_subtotal_plus_tax(invoice):
    _breaks(
        "invoice_total_follows_tax_mode", _update(invoice, total=Decimal("100.00"), amount_due=Decimal("100"))
    )


def test_it_refuses_an_inclusive_total_that_adds_the_tax_again(invoice):
    # 40.00 with 5.22 tax included must stay 40.00, never 45.22.
    _breaks(
        "invoice_total_follows_tax_mode",
        _update(
            invoice,
            tax_mode="inclusive",
            subtotal=Decimal("40.00"),
            tax_total=Decimal("5.22"),
            total=Decimal("45.22"),
            amount_due=Decimal("45.22"),
        ),
    )


def test_it_accepts_an_inclusive_total_equal_to_the_subtotal(invoice):
    _update(
        invoice,
        tax_mode="inclusive",
        subtotal=Decimal("40.00"),
        tax_total=Decimal("5.22"),
        total=Decimal("40.00"),
        amount_due=Decimal("40.00"),
    )()
    invoice.refresh_from_db()
    assert invoice.total == Decimal("40.00")


def test_it_refuses_negative_tax_on_an_invoice(invoice):
    _breaks(
        "invoice_tax_not_negative",
        _update(invoice, tax_total=Decimal("-8"), total=Decimal("92"), amount_due=Decimal("92")),
    )


def test_it_refuses_an_amount_due_that_does_not_balance(invoice):
    _breaks("invoice_amount_due_balances", _update(invoice, amount_due=Decimal("50")))


def test_it_refuses_a_negative_amount_due(invoice):
    _breaks(
        "invoice_amount_due_not_negative",
        _update(invoice, amount_paid=Decimal("110"), amount_due=Decimal("-2")),
    )


def test_it_refuses_negative_settlements(invoice):
    _breaks(
        "invoice_settlements_not_negative",
        _update(invoice, amount_paid=Decimal("-10"), amount_due=Decimal("118")),
    )


def test_it_refuses_a_paid_invoice_with_something_due(invoice):
    _breaks("invoice_paid_means_nothing_due", _update(invoice, status="paid"))


def test_it_refuses_a_void_invoice_with_payments(invoice):
    _breaks(
        "invoice_void_has_no_payments",
        _update(invoice, status="void", amount_paid=Decimal("8"), amount_due=Decimal("100")),
    )


def test_it_refuses_a_due_date_before_the_issue_date(invoice):
    _breaks("invoice_due_after_issue", _update(invoice, due_date=dt.date(2026, 2, 1)))


def test_it_refuses_a_service_period_that_ends_before_it_starts(invoice):
    _breaks(
        "invoice_period_ordered",
        _update(invoice, period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 2, 1)),
    )


def test_it_refuses_an_invoice_currency_that_is_not_iso(invoice):
    _breaks("invoice_currency_iso", _update(invoice, currency="usd"))


def _invoice_line(invoice, **overrides):
    values = dict(
        invoice=invoice,
        line_number=1,
        description="Seats",
        quantity=Decimal("1"),
        unit_amount=Decimal("100"),
        amount=Decimal("100"),
        tax_amount=Decimal("8"),
        tax_rate=Decimal("8"),
    )
    values.update(overrides)
    return m.InvoiceLine.objects.create(**values)


def test_it_refuses_two_invoice_lines_with_one_number(invoice):
    _invoice_line(invoice)
    _breaks("invoice_line_number_unique", lambda: _invoice_line(invoice))


def test_it_refuses_negative_line_tax(invoice):
    _breaks("invoice_line_tax_not_negative", _update(_invoice_line(invoice), tax_amount=Decimal("-1")))


def test_it_refuses_a_tax_rate_above_one_hundred_percent(invoice):
    _breaks("invoice_line_rate_range", _update(_invoice_line(invoice), tax_rate=Decimal("101")))


# -- credit notes -----------------------------------------------------------------------


def _credit_note(invoice, **overrides):
    values = dict(
        number="CN-1",
        invoice=invoice,
        customer=invoice.customer,
        legal_entity=invoice.legal_entity,
        currency="USD",
        issue_date=dt.date(2026, 3, 5),
        reason="Service outage",
        tax_mode="exclusive",
        subtotal=Decimal("10"),
        tax_total=Decimal("0.80"),
        total=Decimal("10.80"),
        correlation_id=invoice.correlation_id,
    )
    values.update(overrides)
    return m.CreditNote.objects.create(**values)


def test_it_refuses_two_credit_notes_with_one_number(invoice):
    _credit_note(invoice)
    _breaks("credit_note_number_unique_per_entity", lambda: _credit_note(invoice))


def test_it_refuses_a_credit_note_total_that_ignores_the_tax_mode(invoice):
    _breaks("credit_note_total_follows_tax_mode", _update(_credit_note(invoice), total=Decimal("10")))


def test_it_refuses_a_credit_note_of_zero(invoice):
    _breaks(
        "credit_note_total_positive",
        _update(_credit_note(invoice), subtotal=Decimal("0"), tax_total=Decimal("0"), total=Decimal("0")),
    )


def test_it_refuses_a_credit_note_with_negative_tax(invoice):
    _breaks(
        "credit_note_tax_not_negative",
        _update(_credit_note(invoice), tax_total=Decimal("-1"), total=Decimal("9")),
    )


def test_it_refuses_an_amendment_numbered_zero():
    _breaks(
        "amendment_sequence_positive",
        lambda: m.ContractAmendment.objects.create(
            contract=f.ContractFactory(),
            sequence=0,
            effective_date=dt.date(2026, 2, 1),
            reason="x",
            made_by="x",
        ),
    )


def test_it_refuses_a_credit_note_currency_that_is_not_iso(invoice):
    _breaks("credit_note_currency_iso", _update(_credit_note(invoice), currency="Eur"))


def test_it_refuses_two_credit_note_lines_with_one_number(invoice):
    note = _credit_note(invoice)
    m.CreditNoteLine.objects.create(credit_note=note, line_number=1, description="x", amount=Decimal("10"))
    _breaks(
        "credit_note_line_number_unique",
        lambda: m.CreditNoteLine.objects.create(
            credit_note=note, line_number=1, description="y", amount=Decimal("1")
        ),
    )


def test_it_refuses_a_credit_note_line_with_negative_tax(invoice):
    line = m.CreditNoteLine.objects.create(
        credit_note=_credit_note(invoice), line_number=1, description="x", amount=Decimal("10")
    )
    _breaks("credit_note_line_tax_not_negative", _update(line, tax_amount=Decimal("-0.01")))


def test_it_refuses_a_credit_note_line_of_zero(invoice):
    note = _credit_note(invoice)
    line = m.CreditNoteLine.objects.create(
        credit_note=note, line_number=1, description="x", amount=Decimal("10")
    )
    _breaks("credit_note_line_amount_positive", _update(line, amount=Decimal("0")))


# -- payments ---------------------------------------------------------------------------


def test_it_refuses_a_payment_currency_that_is_not_iso(payment):
    _breaks("payment_currency_iso", _update(payment, currency="$$$"))


def test_it_refuses_a_payment_of_zero(payment):
    _breaks("payment_amount_positive", _update(payment, amount=Decimal("0")))


def test_it_refuses_applying_more_than_the_payment(payment):
    _breaks("payment_applied_within_amount", _update(payment, amount_applied=Decimal("108.01")))


def test_it_refuses_an_applied_payment_with_cash_left(payment):
    _breaks("payment_applied_means_all", _update(payment, status="applied", amount_applied=Decimal("100")))


def test_it_refuses_a_reversed_payment_that_is_still_applied(payment):
    _breaks(
        "payment_reversed_has_no_applications",
        _update(payment, status="reversed", amount_applied=Decimal("10")),
    )


def test_it_refuses_one_gateway_reference_on_two_payments(payment):
    _update(payment, gateway="stripe", gateway_reference="pi_123")()
    _breaks(
        "payment_gateway_reference_unique",
        lambda: f.PaymentFactory(gateway="stripe", gateway_reference="pi_123"),
    )


def test_it_refuses_a_payment_application_of_zero(payment, invoice):
    _breaks(
        "payment_application_amount_positive",
        lambda: m.PaymentApplication.objects.create(
            payment=payment, invoice=invoice, amount=Decimal("0"), applied_date=dt.date(2026, 3, 15)
        ),
    )


def test_it_refuses_two_active_applications_of_a_payment_to_one_invoice(payment, invoice):
    values = dict(payment=payment, invoice=invoice, amount=Decimal("10"), applied_date=dt.date(2026, 3, 15))
    m.PaymentApplication.objects.create(**values)
    _breaks(
        "payment_application_one_active_per_invoice", lambda: m.PaymentApplication.objects.create(**values)
    )


def test_it_refuses_a_reversed_application_without_reversal_time(payment, invoice):
    application = m.PaymentApplication.objects.create(
        payment=payment, invoice=invoice, amount=Decimal("10"), applied_date=dt.date(2026, 3, 15)
    )
    _breaks("payment_application_reversal_time", _update(application, status="reversed"))


# -- integration ------------------------------------------------------------------------


def _ref(target, **overrides):
    values = dict(
        system="stripe",
        object_type="customer",
        external_id="cus_1",
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
    )
    values.update(overrides)
    return m.ExternalRef.objects.create(**values)


def test_it_refuses_one_external_id_for_two_objects():
    _ref(f.CustomerFactory())
    _breaks("external_ref_unique_per_system", lambda: _ref(f.CustomerFactory()))


def test_it_refuses_two_ids_from_one_system_for_one_object():
    customer = f.CustomerFactory()
    _ref(customer)
    _breaks("external_ref_one_per_object_and_system", lambda: _ref(customer, external_id="cus_2"))


def test_it_refuses_a_blank_external_id():
    _breaks("external_ref_id_not_blank", lambda: _ref(f.CustomerFactory(), external_id=""))


def test_it_refuses_two_ownership_rules_for_one_field():
    m.OwnershipRule.objects.create(object_type="customer", field="name", owner_system="salesforce")
    _breaks(
        "ownership_rule_unique_field",
        lambda: m.OwnershipRule.objects.create(object_type="customer", field="name", owner_system="stripe"),
    )


def test_it_refuses_an_ownership_rule_without_owner():
    _breaks(
        "ownership_rule_owner_not_blank",
        lambda: m.OwnershipRule.objects.create(object_type="customer", field="name", owner_system=""),
    )


def test_it_refuses_an_ownership_rule_with_a_blank_field():
    _breaks(
        "ownership_rule_field_not_blank",
        lambda: m.OwnershipRule.objects.create(object_type="customer", field="", owner_system="crm"),
    )


# -- tax rate table ------------------------------------------------------------------


def _tax_component(**overrides):
    jurisdiction = m.TaxJurisdiction.objects.create(code="US-CA-92615", name="Irvine", country="US")
    values = dict(
        jurisdiction=jurisdiction,
        name="CA STATE TAX",
        type="state",
        rate=Decimal("6"),
        valid_from=dt.date(2026, 1, 1),
    )
    values.update(overrides)
    return m.TaxRateComponent.objects.create(**values)


def test_it_refuses_a_blank_tax_jurisdiction_code():
    _breaks(
        "tax_jurisdiction_code_not_blank",
        lambda: m.TaxJurisdiction.objects.create(code="", name="Nowhere", country="US"),
    )


def test_it_refuses_a_tax_jurisdiction_country_that_is_not_iso():
    _breaks(
        "tax_jurisdiction_country_iso",
        lambda: m.TaxJurisdiction.objects.create(code="X", name="Nowhere", country="us"),
    )


def test_it_refuses_a_tax_rate_above_100_percent():
    _breaks("tax_component_rate_range", _update(_tax_component(), rate=Decimal("100.5")))


def test_it_refuses_a_negative_tax_rate():
    _breaks("tax_component_rate_range", _update(_tax_component(), rate=Decimal("-1")))


def test_it_refuses_a_tax_rate_that_ends_before_it_starts():
    _breaks("tax_component_validity_ordered", _update(_tax_component(), valid_to=dt.date(2025, 12, 31)))


def test_it_refuses_a_tax_component_without_a_name():
    _breaks("tax_component_name_not_blank", _update(_tax_component(), name=""))


def test_it_refuses_an_unknown_tax_component_type():
    _breaks("tax_component_type_known", _update(_tax_component(), type="galactic"))


# -- API tokens and idempotency keys --------------------------------------------


def _token(**overrides):
    values = dict(user=f.UserFactory(), name="ERP export", prefix="1a2b3c4d", digest="a" * 64)
    values.update(overrides)
    return m.ApiToken.objects.create(**values)


def test_it_refuses_an_api_token_digest_that_is_not_sha256():
    _breaks("api_token_digest_sha256", _update(_token(), digest="not-a-digest"))


def test_it_refuses_an_api_token_without_a_name():
    _breaks("api_token_name_not_blank", _update(_token(), name=""))


def _idempotency(**overrides):
    values = dict(
        user=f.UserFactory(), key="k-1", request_digest="b" * 64, method="POST", path="/api/v1/usage/"
    )
    values.update(overrides)
    return m.IdempotencyRecord.objects.create(**values)


def test_it_refuses_one_idempotency_key_twice_for_a_user():
    record = _idempotency()
    _breaks("api_idempotency_key_unique_per_user", lambda: _idempotency(user=record.user))


def test_it_refuses_a_blank_idempotency_key():
    _breaks("api_idempotency_key_not_blank", _update(_idempotency(), key=""))


def test_every_constraint_in_the_models_has_a_case_here():
    """A new constraint without a test here fails this test."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    names = {
        constraint.name
        for model in (
            m.LegalEntity,
            m.Customer,
            m.CustomerContact,
            m.Product,
            m.Price,
            m.Contract,
            m.ContractAmendment,
            m.ContractLine,
            m.UsageRecord,
            m.Invoice,
            m.InvoiceLine,
            m.CreditNote,
            m.CreditNoteLine,
            m.Payment,
            m.PaymentApplication,
            m.ExternalRef,
            m.OwnershipRule,
            m.TaxJurisdiction,
            m.TaxRateComponent,
            m.ApiToken,
            m.IdempotencyRecord,
        )
        for constraint in model._meta.constraints
    }
    untested = sorted(name for name in names if f'"{name}"' not in source)
    assert untested == []
