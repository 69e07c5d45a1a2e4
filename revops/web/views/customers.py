"""Customers: list, detail with related documents, History, and edit forms."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from revops.actors import Actor
from revops.errors import OwnershipConflict
from revops.models import Customer
from revops.selectors.customers import customer_detail as load_customer
from revops.selectors.customers import customer_list as customers_matching
from revops.selectors.history import object_history
from revops.selectors.ownership import field_owners
from revops.services.parties import customer_update
from revops.web.decorators import edits, reads
from revops.web.forms import CustomerDetailsForm, CustomerFilterForm, CustomerTaxForm
from revops.web.views.common import list_page, render_page

OVERRIDE_PERMISSION = "revops.override_ownership"


@reads("revops.view_customer")
def customer_list(request):
    form = CustomerFilterForm(request.GET)
    kwargs = form.selector_kwargs()
    return list_page(
        request,
        "revops/customers/list.html",
        form=form,
        queryset=customers_matching(**kwargs),
        sort=kwargs["sort"],
    )


def _detail(request, pk: int, tab: str):
    try:
        detail = load_customer(pk)
    except Customer.DoesNotExist:
        raise Http404("No customer with this id.") from None
    context = {"detail": detail, "customer": detail.customer, "tab": tab}
    if tab == "history":
        context["history"] = object_history(detail.customer)
    return render_page(request, "revops/customers/detail.html", context, partials={"tab-panel": tab})


@reads("revops.view_customer")
def customer_detail(request, pk: int):
    return _detail(request, pk, "overview")


@reads("revops.view_customer")
def customer_history(request, pk: int):
    return _detail(request, pk, "history")


def _edit(request, pk: int, form_class, *, title: str):
    customer = get_object_or_404(Customer.objects.select_related("legal_entity"), pk=pk)
    owners = field_owners("customer", form_class.field_names)
    form = form_class(request.POST or None, customer=customer, owned_fields=owners)
    can_override = request.user.has_perm(OVERRIDE_PERMISSION)
    if request.method == "POST" and form.is_valid():
        override = form.cleaned_data["override_ownership"] and can_override
        try:
            customer_update(
                customer=customer,
                changes=form.changes(),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                override_ownership=override,
            )
        except OwnershipConflict as conflict:
            form.add_service_error(conflict)
            form.show_override = can_override
            if not can_override:
                form.add_error(
                    None, "Ask someone with the ownership-override permission to make this change."
                )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Saved changes to {customer.number} {customer.name}.")
            return redirect("customer_detail", pk=customer.pk)
    if request.method == "POST" and form.data.get("override_ownership"):
        form.show_override = can_override
    status = 400 if request.method == "POST" else 200
    context = {"customer": customer, "form": form, "title": title, "owners": owners}
    return render(request, "revops/customers/edit.html", context, status=status)


@edits("revops.change_customer")
def customer_edit(request, pk: int):
    return _edit(request, pk, CustomerDetailsForm, title="Edit customer details")


@edits("revops.change_customer")
def customer_tax_edit(request, pk: int):
    return _edit(request, pk, CustomerTaxForm, title="Edit tax classification")
