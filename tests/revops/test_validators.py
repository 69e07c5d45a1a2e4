"""A model's field validation applied to plain values says what `full_clean`
says about the instance those values make, and instances built from values
hold what keyword construction gives them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import post_init

from revops.models import Customer, CustomerContact, Invoice, InvoiceLine, LegalEntity
from revops.services import parties
from revops.validators import field_errors, model_instance, model_values

ENTITY = LegalEntity(pk=7, code="US01", name="Acme", country="US", functional_currency="USD")


def _full_clean_messages(instance, exclude=()) -> dict[str, list[str]]:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _columns(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


CUSTOMERS = [
    {},
    {"name": ""},
    {"name": "N" * 201},
    {"number": "C" * 41, "currency": "DOLLARS"},
    {"status": "dormant"},
    {"status": "on_hold"},
    {"payment_terms_days": -1},
    {"payment_terms_days": "45"},
    {"payment_terms_days": "thirty"},
    {"payment_terms_days": None},
    {"country": "", "city": "C" * 101},
    {"tax_exempt": None},
    {"tax_id": "T" * 41, "tax_country": "DEU"},
    {"address_line1": "1 Main St\x00"},
]


@pytest.mark.parametrize("changes", CUSTOMERS)
def test_it_finds_in_values_what_full_clean_finds_in_the_customer(changes):
    values = {"number": "C-1", "name": "Umbrella", "legal_entity": ENTITY, "currency": "USD", "country": "US"}
    values.update(changes)
    instance = Customer(**values)
    expected = _full_clean_messages(instance, exclude=["legal_entity"])
    cleaned, errors = field_errors(Customer, values, exclude=["legal_entity"])
    assert errors == expected
    if not expected:  # the values come out as full_clean leaves them on the instance
        assert {**model_values(Customer, values), **cleaned} == _columns(instance)


@pytest.mark.parametrize(
    "changes",
    [{}, {"email": "not-an-email"}, {"email": ""}, {"name": "", "phone": "9" * 41}, {"is_primary": "maybe"}],
)
def test_it_finds_in_values_what_full_clean_finds_in_a_contact(changes):
    values = {"name": "Ada", "email": "ada@example.com", "customer_id": 1, **changes}
    expected = _full_clean_messages(CustomerContact(**values), exclude=["customer"])
    assert field_errors(CustomerContact, values, exclude=["customer"])[1] == expected


def test_a_field_left_at_its_default_is_judged_by_its_default():
    # `name` has no default but the empty string, which a customer may not have.
    _, errors = field_errors(
        Customer, {"number": "C-1", "currency": "USD", "country": "US"}, exclude=["legal_entity"]
    )
    assert errors == {"name": ["This field cannot be blank."]}


def test_a_model_with_its_own_clean_is_not_validated_from_values():
    class Checked(Customer):
        class Meta:
            app_label = "revops"
            proxy = True

        def clean(self):
            raise ValidationError("no")

    with pytest.raises(TypeError):
        field_errors(Checked, {})


@pytest.mark.parametrize(
    "check",
    [
        {},
        {"tax_id": "123", "tax_country": "DE"},
        {"tax_exempt": True},
        {"country": "Germany"},
        {"currency": "ZZZ"},
        {"name": "  "},
        {"name": "N" * 201},
        {"payment_terms_days": -5},
        {"region": "R" * 101, "status": "gone"},
    ],
)
def test_customer_values_are_checked_as_the_built_customer_is(check):
    details = {k: v for k, v in check.items() if k not in ("name", "country", "currency")}
    arguments = {
        "number": " C-1 ",
        "name": check.get("name", "Umbrella"),
        "legal_entity": ENTITY,
        "currency": check.get("currency", "usd"),
        "country": check.get("country", "us"),
        **details,
    }
    built = parties.customer_build(**arguments)
    try:
        parties.check_customer(built, unique=False)
        expected = None
    except ValidationError as exc:
        expected = exc.message_dict
    try:
        row = parties.check_customer_values(parties.customer_values(**arguments))
    except ValidationError as exc:
        assert exc.message_dict == expected
    else:
        assert expected is None and row == _columns(built)


def test_an_instance_built_from_values_is_the_one_keyword_construction_builds():
    customer = Customer(
        pk=3, number="C-3", name="Umbrella", legal_entity=ENTITY, currency="USD", country="US"
    )
    values = {
        "number": "INV-1",
        "customer": customer,
        "contract": None,
        "legal_entity": ENTITY,
        "currency": "USD",
        "issue_date": dt.date(2026, 3, 1),
        "due_date": dt.date(2026, 3, 31),
        "status": Invoice.Status.DRAFT,
        "subtotal": Decimal("100.00"),
        "tax_total": Decimal("8.00"),
        "total": Decimal("108.00"),
        "amount_due": Decimal("108.00"),
        "correlation_id": uuid.UUID(int=5),
    }
    built, expected = model_instance(Invoice, values), Invoice(**values)
    assert _columns(built) == _columns(expected)
    assert built.customer is customer and built.legal_entity is ENTITY and built.contract is None
    assert built._state.adding and built.pk is None
    line = model_instance(InvoiceLine, {"line_number": 1, "description": "Seats", "amount": Decimal(1)})
    assert _columns(line) == _columns(InvoiceLine(line_number=1, description="Seats", amount=Decimal(1)))


def test_an_instance_built_from_values_still_reaches_init_receivers():
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append((sender, instance.description))

    post_init.connect(receiver, sender=InvoiceLine)
    try:
        line = model_instance(InvoiceLine, {"line_number": 1, "description": "Seats", "amount": Decimal(1)})
    finally:
        post_init.disconnect(receiver, sender=InvoiceLine)
    assert heard == [(InvoiceLine, "Seats")] and line._state.adding
    plain = model_instance(InvoiceLine, {"line_number": 2, "description": "Fee", "amount": Decimal(2)})
    assert heard == [(InvoiceLine, "Seats")]
    assert _columns(plain) == _columns(InvoiceLine(line_number=2, description="Fee", amount=Decimal(2)))
