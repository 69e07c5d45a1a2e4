"""A customer's contacts: add, edit, make primary, remove — each with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from revops.actors import Actor
from revops.models import Customer, CustomerContact
from revops.services.parties import contact_add as add_contact
from revops.services.parties import contact_make_primary as make_primary
from revops.services.parties import contact_remove as remove_contact
from revops.services.parties import contact_update as update_contact
from revops.web.decorators import edits
from revops.web.forms import ContactForm, ReasonForm

TEMPLATE = "revops/customers/contact_form.html"


def _contact(customer_pk: int, pk: int) -> CustomerContact:
    return get_object_or_404(
        CustomerContact.objects.select_related("customer"), pk=pk, customer_id=customer_pk
    )


def _done(request, customer: Customer, message: str):
    messages.success(request, message)
    return redirect("customer_detail", pk=customer.pk)


def _form_page(request, form, *, customer, title: str, action: str, contact=None, danger: bool = False):
    context = {
        "customer": customer,
        "contact": contact,
        "form": form,
        "title": title,
        "action": action,
        "danger": danger,
    }
    return render(request, TEMPLATE, context, status=400 if request.method == "POST" else 200)


@edits("revops.add_customercontact")
def contact_add(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contact = add_contact(
                customer=customer,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                role=data["role"],
                is_primary=data["is_primary"],
                actor=Actor.for_user(request.user),
                reason=data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _done(request, customer, f"Added contact {contact.name}.")
    return _form_page(request, form, customer=customer, title="Add contact", action="Add contact")


@edits("revops.change_customercontact")
def contact_edit(request, customer_pk: int, pk: int):
    contact = _contact(customer_pk, pk)
    form = ContactForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            update_contact(
                contact=contact,
                changes=form.changes(),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _done(request, contact.customer, f"Saved contact {form.cleaned_data['name']}.")
    return _form_page(
        request,
        form,
        customer=contact.customer,
        contact=contact,
        title=f"Edit contact {contact.name}",
        action="Save contact",
    )


@edits("revops.change_customercontact")
def contact_make_primary(request, customer_pk: int, pk: int):
    contact = _contact(customer_pk, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            make_primary(
                contact=contact, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _done(request, contact.customer, f"{contact.name} is now the primary billing contact.")
    return _form_page(
        request,
        form,
        customer=contact.customer,
        contact=contact,
        title=f"Make {contact.name} the primary billing contact",
        action="Make primary",
    )


@edits("revops.delete_customercontact")
def contact_remove(request, customer_pk: int, pk: int):
    contact = _contact(customer_pk, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            remove_contact(
                contact=contact, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return _done(request, contact.customer, f"Removed contact {contact.name}.")
    return _form_page(
        request,
        form,
        customer=contact.customer,
        contact=contact,
        title=f"Remove contact {contact.name}",
        action="Remove contact",
        danger=True,
    )
