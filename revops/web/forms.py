"""Forms: list filters (parsed from the query string) and edit forms.

Edit forms are plain forms, not ModelForms: a ModelForm writes the submitted
values onto the instance while validating, and the services must see the
object as stored to know what changed. Each edit form carries a required
reason, which becomes the change reason in history.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import fields_for_model

from revops.models import (
    OBJECT_TYPES,
    Contract,
    Customer,
    CustomerContact,
    Invoice,
    LegalEntity,
    Payment,
)
from revops.money import CURRENCY_CHOICES
from revops.selectors.contracts import CONTRACT_DEFAULT_SORT, CONTRACT_SORTS
from revops.selectors.customers import CUSTOMER_DEFAULT_SORT, CUSTOMER_SORTS
from revops.selectors.invoices import INVOICE_DEFAULT_SORT, INVOICE_SORTS
from revops.selectors.payments import PAYMENT_DEFAULT_SORT, PAYMENT_SORTS

_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _any(choices) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


# ---------------------------------------------------------------- list filters


class FilterForm(forms.Form):
    """Invalid filter values are dropped (with the field's error shown), never a 500."""

    sorts: dict[str, tuple[str, ...]] = {}
    default_sort = ""

    q = forms.CharField(required=False, max_length=200, label="Search")
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def filters(self) -> dict:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}
        for name in self.errors:
            data.pop(name, None)
        data["q"] = (data.get("q") or "").strip()
        sort = data.get("sort")
        data["sort"] = sort if sort in self.sorts else self.default_sort
        return data


class CustomerFilterForm(FilterForm):
    sorts, default_sort = CUSTOMER_SORTS, CUSTOMER_DEFAULT_SORT
    status = forms.ChoiceField(required=False, choices=_any(Customer.Status.choices))
    legal_entity = forms.ModelChoiceField(
        required=False, queryset=LegalEntity.objects.order_by("code"), empty_label="Any", label="Legal entity"
    )

    def selector_kwargs(self) -> dict:
        data = self.filters()
        entity = data.get("legal_entity")
        return {
            "q": data["q"],
            "status": data.get("status", ""),
            "legal_entity_id": entity.pk if entity else None,
            "sort": data["sort"],
        }


class ContractFilterForm(FilterForm):
    sorts, default_sort = CONTRACT_SORTS, CONTRACT_DEFAULT_SORT
    status = forms.ChoiceField(required=False, choices=_any(Contract.Status.choices))
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def selector_kwargs(self) -> dict:
        data = self.filters()
        return {
            "q": data["q"],
            "status": data.get("status", ""),
            "customer_id": data.get("customer"),
            "sort": data["sort"],
        }


class DateInput(forms.DateInput):
    """A text box for YYYY-MM-DD: the browser's date picker would show the
    date in the user's locale, and this app writes dates one way everywhere."""

    input_type = "text"

    def __init__(self, **kwargs):
        attrs = {"placeholder": "YYYY-MM-DD", "size": 10, "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(format="%Y-%m-%d", attrs=attrs, **kwargs)


class InvoiceFilterForm(FilterForm):
    sorts, default_sort = INVOICE_SORTS, INVOICE_DEFAULT_SORT
    status = forms.ChoiceField(required=False, choices=_any(Invoice.Status.choices))
    legal_entity = forms.ModelChoiceField(
        required=False, queryset=LegalEntity.objects.order_by("code"), empty_label="Any", label="Legal entity"
    )
    currency = forms.ChoiceField(required=False, choices=_any(CURRENCY_CHOICES))
    issued_from = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Issued from",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    issued_to = forms.DateField(
        required=False,
        widget=DateInput(),
        label="to",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    contract = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("issued_from"), data.get("issued_to")
        if start and end and start > end:
            self.add_error("issued_to", "The end date is before the start date.")
        return data

    def selector_kwargs(self, *, today) -> dict:
        data = self.filters()
        entity = data.get("legal_entity")
        return {
            "q": data["q"],
            "status": data.get("status", ""),
            "legal_entity_id": entity.pk if entity else None,
            "currency": data.get("currency", ""),
            "issued_from": data.get("issued_from"),
            "issued_to": data.get("issued_to"),
            "overdue_on": today if data.get("overdue") else None,
            "customer_id": data.get("customer"),
            "contract_id": data.get("contract"),
            "sort": data["sort"],
        }


class PaymentFilterForm(FilterForm):
    sorts, default_sort = PAYMENT_SORTS, PAYMENT_DEFAULT_SORT
    status = forms.ChoiceField(required=False, choices=_any(Payment.Status.choices))
    method = forms.ChoiceField(required=False, choices=_any(Payment.Method.choices))
    legal_entity = forms.ModelChoiceField(
        required=False, queryset=LegalEntity.objects.order_by("code"), empty_label="Any", label="Legal entity"
    )
    currency = forms.ChoiceField(required=False, choices=_any(CURRENCY_CHOICES))
    received_from = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Received from",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    received_to = forms.DateField(
        required=False,
        widget=DateInput(),
        label="to",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    unidentified = forms.BooleanField(required=False, label="Payer unknown")
    unapplied_cash = forms.BooleanField(required=False, label="With unapplied cash")
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "The end date is before the start date.")
        return data

    def selector_kwargs(self) -> dict:
        data = self.filters()
        entity = data.get("legal_entity")
        return {
            "q": data["q"],
            "status": data.get("status", ""),
            "method": data.get("method", ""),
            "legal_entity_id": entity.pk if entity else None,
            "currency": data.get("currency", ""),
            "received_from": data.get("received_from"),
            "received_to": data.get("received_to"),
            "unidentified": bool(data.get("unidentified")),
            "unapplied_cash": bool(data.get("unapplied_cash")),
            "customer_id": data.get("customer"),
            "sort": data["sort"],
        }


# ---------------------------------------------------------------- edit forms


def reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for change",
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. Customer emailed new billing address (ticket 1234)"}
        ),
        error_messages={"required": "Say why you are making this change; it is kept in the history."},
    )


class ChangeForm(forms.Form):
    """Base for forms that change data: a reason, and service errors shown on
    the fields they concern."""

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why you are making this change; it is kept in the history.")
        return reason

    def add_service_error(self, error: ValidationError) -> None:
        """Put a service's validation error on the matching fields, the rest on the form."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                target = name if name in self.fields and name != NON_FIELD_ERRORS else None
                for message in messages:
                    self.add_error(target, message)
        else:
            for message in error.messages:
                self.add_error(None, message)


class ReasonForm(ChangeForm):
    reason = reason_field()


def _upper_iso_country(value: str, *, required: bool) -> str:
    value = (value or "").strip().upper()
    if not value and not required:
        return ""
    if not _ISO_COUNTRY.match(value):
        raise ValidationError("Use the two-letter ISO 3166-1 country code, e.g. US, DE, GB.")
    return value


class CustomerChangeForm(ChangeForm):
    """Edits some of a customer's fields; `changes()` gives only those that differ."""

    field_names: tuple[str, ...] = ()

    override_ownership = forms.BooleanField(
        required=False,
        label="Override ownership (reason required)",
        help_text="Change fields that another system owns. The override is recorded with your reason, "
        "and the owning system may overwrite the value on its next sync.",
    )

    def __init__(self, *args, customer: Customer, owned_fields: dict[str, str] | None = None, **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(customer, name) for name in self.field_names}
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.owned_fields = owned_fields or {}
        self.show_override = False
        for name, owner in self.owned_fields.items():
            if name in self.fields:
                self.fields[name].owner_system = owner

    def changes(self) -> dict[str, object]:
        return {
            name: self.cleaned_data[name]
            for name in self.field_names
            if self.cleaned_data[name] != getattr(self.customer, name)
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not self.changes():
            raise ValidationError("Nothing changed: edit at least one field before saving.")
        return data


def _country_field(model_field_name: str) -> forms.CharField:
    # Wider than the two letters stored, so "Germany" gets a message about the
    # code rather than one about its length.
    model_field = Customer._meta.get_field(model_field_name)
    return forms.CharField(
        label=str(model_field.verbose_name).capitalize(),
        required=not model_field.blank,
        max_length=60,
        help_text="Two-letter ISO 3166-1 code, e.g. US, DE, GB.",
        widget=forms.TextInput(attrs={"size": 4, "autocomplete": "country"}),
    )


def _customer_form(
    name: str, field_names: tuple[str, ...], extra: dict | None = None
) -> type[CustomerChangeForm]:
    attrs = dict(fields_for_model(Customer, fields=field_names))
    for country in ("country", "tax_country"):
        if country in attrs:
            attrs[country] = _country_field(country)
    if "name" in attrs:
        attrs["name"].error_messages["required"] = "The customer needs a name."
    attrs.update(extra or {})
    attrs["field_names"] = field_names
    attrs["reason"] = reason_field()
    return type(name, (CustomerChangeForm,), attrs)


CUSTOMER_DETAIL_FIELDS = (
    "name",
    "status",
    "payment_terms_days",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
)
CUSTOMER_TAX_FIELDS = ("tax_id", "tax_country", "tax_region", "tax_exempt", "exemption_certificate")


def _clean_name(self) -> str:
    name = self.cleaned_data["name"].strip()
    if not name:
        raise ValidationError("The customer needs a name.")
    return name


def _clean_payment_terms_days(self) -> int:
    days = self.cleaned_data["payment_terms_days"]
    if days is not None and days > 365:
        raise ValidationError("Payment terms can be at most 365 days.")
    return days


def _clean_country(self) -> str:
    return _upper_iso_country(self.cleaned_data["country"], required=True)


def _clean_tax_country(self) -> str:
    return _upper_iso_country(self.cleaned_data["tax_country"], required=False)


def _clean_tax(self):
    data = CustomerChangeForm.clean(self)
    if data.get("tax_exempt") and not (data.get("exemption_certificate") or "").strip():
        self.add_error(
            "exemption_certificate", "A tax-exempt customer needs the reference of its exemption certificate."
        )
    return data


CustomerDetailsForm = _customer_form(
    "CustomerDetailsForm",
    CUSTOMER_DETAIL_FIELDS,
    {
        "clean_name": _clean_name,
        "clean_country": _clean_country,
        "clean_payment_terms_days": _clean_payment_terms_days,
    },
)
CustomerTaxForm = _customer_form(
    "CustomerTaxForm",
    CUSTOMER_TAX_FIELDS,
    {"clean_tax_country": _clean_tax_country, "clean": _clean_tax},
)


CONTACT_FIELDS = ("name", "email", "phone", "role")


class ContactForm(ChangeForm):
    """Adds a contact, or (with `contact`) edits one; `changes()` gives what differs."""

    def __init__(self, *args, contact: CustomerContact | None = None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(contact, name) for name in CONTACT_FIELDS}
        super().__init__(*args, **kwargs)
        self.contact = contact
        if contact is not None:
            del self.fields["is_primary"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("The contact needs a name.")
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def changes(self) -> dict[str, object]:
        return {
            name: self.cleaned_data[name]
            for name in CONTACT_FIELDS
            if self.cleaned_data[name] != getattr(self.contact, name)
        }

    def clean(self):
        data = super().clean()
        if self.contact is not None and not self.errors and not self.changes():
            raise ValidationError("Nothing changed: edit at least one field before saving.")
        return data


ContactForm.base_fields.update(fields_for_model(CustomerContact, fields=(*CONTACT_FIELDS, "is_primary")))
ContactForm.base_fields["is_primary"].label = "Primary billing contact"
ContactForm.base_fields["name"].error_messages["required"] = "The contact needs a name."
ContactForm.base_fields["email"].error_messages.update(
    required="Enter the contact's email address; invoices are sent there.",
    invalid="Enter a complete email address, like ap@customer.example.",
)
ContactForm.base_fields["reason"] = reason_field()


class OwnershipRuleForm(ChangeForm):
    object_type = forms.ChoiceField(choices=OBJECT_TYPES, label="Object type")
    field = forms.CharField(
        max_length=64,
        initial="*",
        help_text="A field name such as billing_email, or * for every field of the object type.",
        label="Field",
    )
    owner_system = forms.CharField(
        max_length=64,
        label="Owner system",
        help_text='The authoritative system, e.g. "salesforce" or "revops".',
    )
    notes = forms.CharField(max_length=300, required=False)
    reason = reason_field()

    def clean_field(self) -> str:
        value = self.cleaned_data["field"].strip()
        if value != "*" and not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValidationError(
                "Use a field name in lower case with underscores (e.g. tax_id), or * for all."
            )
        return value

    def clean_owner_system(self) -> str:
        value = self.cleaned_data["owner_system"].strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", value):
            raise ValidationError('Use the system\'s short name, e.g. "salesforce", "stripe" or "revops".')
        return value
