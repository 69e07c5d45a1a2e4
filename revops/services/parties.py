"""Writes for legal entities, customers and their contacts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db import transaction

from revops.actors import Actor
from revops.errors import DomainValidationError, field_error
from revops.models import Customer, CustomerContact, LegalEntity
from revops.models.base import stamp
from revops.money import CURRENCY_EXPONENTS
from revops.services._common import UpdateResult, changed_fields, clean_fields, reject_unknown
from revops.services.events import event_record
from revops.services.ownership import guard_changes, override_note
from revops.validators import COUNTRY_RE, field_errors, model_values, normalise_tax_id, tax_id_problem

CUSTOMER_EDITABLE = (
    "name",
    "status",
    "payment_terms_days",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tax_id",
    "tax_country",
    "tax_region",
    "tax_exempt",
    "exemption_certificate",
)
CONTACT_EDITABLE = ("name", "email", "phone", "role")


@transaction.atomic
def legal_entity_create(
    *,
    code: str,
    name: str,
    country: str,
    functional_currency: str,
    tax_registration_number: str = "",
    actor: Actor,
    reason: str = "Legal entity created",
) -> LegalEntity:
    entity = LegalEntity(
        code=code.strip().upper(),
        name=name.strip(),
        country=country.strip().upper(),
        functional_currency=functional_currency.strip().upper(),
        tax_registration_number=tax_registration_number.strip(),
    )
    _check_country(entity.country, "country")
    _check_currency(entity.functional_currency, "functional_currency")
    clean_fields(entity)
    stamp(entity, actor, reason)
    entity.save()
    return entity


def _check_country(value: str, field: str) -> None:
    if not COUNTRY_RE.match(value or ""):
        raise field_error(field, f"{value!r} is not a two-letter ISO country code (e.g. US, DE).")


def _check_currency(value: str, field: str) -> None:
    if value not in CURRENCY_EXPONENTS:
        raise field_error(field, f"{value!r} is not a supported ISO 4217 currency code (e.g. USD, EUR).")


def normalise_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    """Trimmed text, upper-case country codes, a normalised tax id (pure)."""
    values = dict(values)
    for key in ("country", "tax_country"):
        if key in values and values[key] is not None:
            values[key] = str(values[key]).strip().upper()
    if "tax_id" in values:
        values["tax_id"] = normalise_tax_id(values["tax_id"] or "")
    for key in (
        "name",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "tax_region",
        "exemption_certificate",
    ):
        if key in values and isinstance(values[key], str):
            values[key] = values[key].strip()
    return values


def customer_rule_errors(customer: Customer) -> dict[str, list[str]]:
    """The business rules a customer must meet, as {field: [messages]} (pure)."""
    errors: dict[str, list[str]] = {}
    if not COUNTRY_RE.match(customer.country or ""):
        errors["country"] = [f"{customer.country!r} is not a two-letter ISO country code (e.g. US, DE)."]
    if customer.tax_country and not COUNTRY_RE.match(customer.tax_country):
        errors["tax_country"] = [f"{customer.tax_country!r} is not a two-letter ISO country code."]
    problem = tax_id_problem(customer.tax_id, customer.tax_country or customer.country)
    if problem:
        errors["tax_id"] = [problem]
    if customer.tax_exempt and not customer.exemption_certificate:
        errors["exemption_certificate"] = ["A tax-exempt customer needs the exemption certificate reference."]
    if customer.currency not in CURRENCY_EXPONENTS:
        errors["currency"] = [f"{customer.currency!r} is not a supported ISO 4217 currency code."]
    if not customer.name:
        errors["name"] = ["The customer needs a name."]
    return errors


def check_customer(customer: Customer, *, unique: bool = True) -> None:
    """Business rules, then field validation. `unique=False` leaves the number's
    uniqueness to the caller (bulk creation checks it for a whole batch at once)."""
    errors = customer_rule_errors(customer)
    if errors:
        raise DomainValidationError(errors)
    clean_fields(customer, exclude=["legal_entity"], unique=unique)


def check_customer_values(values: dict[str, Any]) -> dict[str, Any]:
    """`check_customer(unique=False)` on `customer_values` instead of a built
    customer (bulk creation checks thousands without building each): the same
    rules, then the model's own field validation. Returns every column of the
    row, cleaned."""
    row = model_values(Customer, values)
    errors = customer_rule_errors(SimpleNamespace(**row))
    if errors:
        raise DomainValidationError(errors)
    cleaned, errors = field_errors(Customer, values, exclude=["legal_entity"])
    if errors:
        raise DomainValidationError(errors)
    row.update(cleaned)
    return row


def customer_values(
    *, number: str, name: str, legal_entity: LegalEntity, currency: str, country: str, **details: Any
) -> dict[str, Any]:
    """`customer_create`'s arguments as the customer's field values, normalised
    (pure; not yet validated)."""
    reject_unknown(details, CUSTOMER_EDITABLE, "Customer")
    values = normalise_customer_values({"name": name, "country": country, **details})
    return {
        "number": number.strip(),
        "legal_entity": legal_entity,
        "currency": currency.strip().upper(),
        **values,
    }


def customer_build(
    *, number: str, name: str, legal_entity: LegalEntity, currency: str, country: str, **details: Any
) -> Customer:
    """An unsaved customer from `customer_create`'s arguments, normalised (pure;
    not yet validated)."""
    return Customer(
        **customer_values(
            number=number,
            name=name,
            legal_entity=legal_entity,
            currency=currency,
            country=country,
            **details,
        )
    )


@transaction.atomic
def customer_create(
    *,
    number: str,
    name: str,
    legal_entity: LegalEntity,
    currency: str,
    country: str,
    actor: Actor,
    reason: str = "Customer created",
    **details: Any,
) -> Customer:
    customer = customer_build(
        number=number, name=name, legal_entity=legal_entity, currency=currency, country=country, **details
    )
    if Customer.objects.filter(number=customer.number).exists():
        raise field_error("number", f"Customer number {customer.number} is already in use.")
    check_customer(customer)
    stamp(customer, actor, reason)
    customer.save()
    event_record(type="customer.created", subject=customer, actor=actor, payload={"number": customer.number})
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    changes: dict[str, Any],
    actor: Actor,
    reason: str,
    override_ownership: bool = False,
) -> Customer:
    """Apply `changes` to a customer. Returns the customer (unchanged when nothing differs).

    Fields owned by another system are refused: a person gets an OwnershipConflict
    (or overrides with permission and a reason); a system's refused fields are
    recorded and the rest applied.
    """
    return customer_apply(
        customer=customer, changes=changes, actor=actor, reason=reason, override_ownership=override_ownership
    ).obj


@transaction.atomic
def customer_apply(
    *,
    customer: Customer,
    changes: dict[str, Any],
    actor: Actor,
    reason: str,
    override_ownership: bool = False,
) -> UpdateResult:
    """`customer_update`, saying what changed and what ownership refused."""
    reject_unknown(changes, CUSTOMER_EDITABLE, "Customer")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = changed_fields(customer, normalise_customer_values(changes))
    if not wanted:
        return UpdateResult(customer)
    guard = guard_changes(
        instance=customer,
        object_type="customer",
        changes=wanted,
        actor=actor,
        override_ownership=override_ownership,
        reason=reason,
    )
    if not guard.allowed:
        return UpdateResult(customer, refused=guard.refused)
    before = {name: getattr(customer, name) for name in guard.allowed}
    for name, value in guard.allowed.items():
        setattr(customer, name, value)
    check_customer(customer)
    full_reason = reason if not guard.overridden else f"{reason} ({override_note(guard.overridden)})"
    stamp(customer, actor, full_reason)
    customer.save()
    event_record(
        type="customer.updated",
        subject=customer,
        actor=actor,
        payload={
            "fields": sorted(guard.allowed),
            "before": before,
            "after": guard.allowed,
            "overridden": guard.overridden,
        },
    )
    return UpdateResult(customer, changed=sorted(guard.allowed), refused=guard.refused)


def contact_build(
    *, customer: Customer, name: str, email: str, phone: str = "", role: str = "", is_primary: bool = False
) -> CustomerContact:
    """An unsaved contact from `contact_add`'s arguments, normalised (pure)."""
    return CustomerContact(
        customer=customer,
        name=name.strip(),
        email=email.strip().lower(),
        phone=phone.strip(),
        role=role.strip(),
        is_primary=is_primary,
    )


def check_contact(contact: CustomerContact, *, unique: bool = True) -> None:
    """A contact's own fields; clashes with other contacts are the caller's."""
    if not contact.name:
        raise field_error("name", "The contact needs a name.")
    clean_fields(contact, exclude=["customer"], unique=unique)


def _validate_contact(contact: CustomerContact) -> None:
    check_contact(contact)
    clash = CustomerContact.objects.filter(customer_id=contact.customer_id, email__iexact=contact.email)
    if contact.pk:
        clash = clash.exclude(pk=contact.pk)
    if clash.exists():
        raise field_error("email", f"{contact.email} is already a contact of this customer.")


def _demote_primary(
    customer: Customer, actor: Actor, reason: str, keep: CustomerContact | None = None
) -> None:
    for other in customer.contacts.select_for_update().filter(is_primary=True):
        if keep is not None and other.pk == keep.pk:
            continue
        other.is_primary = False
        stamp(other, actor, reason)
        other.save()


@transaction.atomic
def contact_add(
    *,
    customer: Customer,
    name: str,
    email: str,
    phone: str = "",
    role: str = "",
    is_primary: bool = False,
    actor: Actor,
    reason: str,
) -> CustomerContact:
    Customer.objects.select_for_update().get(pk=customer.pk)
    # The first contact is the primary one: invoices always have somebody to go to.
    is_primary = is_primary or not customer.contacts.exists()
    contact = contact_build(
        customer=customer, name=name, email=email, phone=phone, role=role, is_primary=is_primary
    )
    _validate_contact(contact)
    if is_primary:
        _demote_primary(customer, actor, f"{reason} (primary contact changed)")
    stamp(contact, actor, reason)
    contact.save()
    return contact


@transaction.atomic
def contact_update(
    *, contact: CustomerContact, changes: dict[str, Any], actor: Actor, reason: str
) -> CustomerContact:
    reject_unknown(changes, CONTACT_EDITABLE, "Contact")
    contact = CustomerContact.objects.select_for_update().get(pk=contact.pk)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()}
    if "email" in values:
        values["email"] = values["email"].lower()
    wanted = changed_fields(contact, values)
    if not wanted:
        return contact
    for name, value in wanted.items():
        setattr(contact, name, value)
    _validate_contact(contact)
    stamp(contact, actor, reason)
    contact.save()
    return contact


@transaction.atomic
def contact_make_primary(*, contact: CustomerContact, actor: Actor, reason: str) -> CustomerContact:
    contact = CustomerContact.objects.select_for_update().get(pk=contact.pk)
    if contact.is_primary:
        return contact
    _demote_primary(contact.customer, actor, reason, keep=contact)
    contact.is_primary = True
    stamp(contact, actor, reason)
    contact.save()
    return contact


@transaction.atomic
def contact_remove(*, contact: CustomerContact, actor: Actor, reason: str) -> None:
    contact = CustomerContact.objects.select_for_update().get(pk=contact.pk)
    others = CustomerContact.objects.filter(customer_id=contact.customer_id).exclude(pk=contact.pk)
    if contact.is_primary and others.exists():
        raise DomainValidationError(
            {"is_primary": ["Make another contact primary before removing the primary contact."]}
        )
    stamp(contact, actor, reason)
    contact.delete()
