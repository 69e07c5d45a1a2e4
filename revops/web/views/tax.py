"""The tax rate table: every role reads jurisdictions and their rates (they
explain each tax mismatch); Integration Admins add and change them, with a
reason, and every change is in the jurisdiction's History."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from revops.actors import Actor
from revops.models import LegalEntity, TaxJurisdiction, TaxRateComponent
from revops.money import RATE_DIGITS, RATE_PLACES
from revops.selectors import tax as tax_selectors
from revops.selectors.history import object_history
from revops.services import tax
from revops.web.decorators import edits, reads
from revops.web.forms import ChangeForm, reason_field
from revops.web.views.common import render_page

FORM_TEMPLATE = "revops/tax/form.html"
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# -- forms ----------------------------------------------------------------------------------------


class JurisdictionFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Code or name")
    country = forms.CharField(required=False, max_length=2, label="Country")


class JurisdictionForm(ChangeForm):
    code = forms.CharField(
        max_length=100,
        help_text="Exactly as invoice lines name the jurisdiction, e.g. US-CA-92615 or DE.",
    )
    name = forms.CharField(max_length=200)
    country = forms.CharField(max_length=2, help_text="Two-letter ISO code, e.g. US or DE.")
    region = forms.CharField(max_length=100, required=False, help_text="State or region, e.g. CA.")
    legal_entity = forms.ModelChoiceField(
        queryset=LegalEntity.objects.order_by("code"),
        required=False,
        empty_label="Every legal entity",
        help_text="Leave empty unless only one legal entity's invoices use these rates.",
    )
    notes = forms.CharField(max_length=300, required=False)
    reason = reason_field()

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()


class ComponentForm(ChangeForm):
    name = forms.CharField(max_length=100, help_text='The tax, e.g. "CA STATE TAX" or "VAT".')
    authority = forms.CharField(
        max_length=200, required=False, help_text='Who levies it, e.g. "CALIFORNIA" or "ORANGE".'
    )
    type = forms.ChoiceField(choices=TaxRateComponent.Type.choices)
    rate = forms.DecimalField(
        max_digits=RATE_DIGITS,
        decimal_places=RATE_PLACES,
        min_value=0,
        max_value=100,
        help_text="Percent, e.g. 6.25 for 6.25 %.",
    )
    valid_from = forms.DateField(widget=DATE_INPUT, help_text="First day the rate applies.")
    valid_to = forms.DateField(
        widget=DATE_INPUT,
        required=False,
        help_text="Last day the rate applies; set it to end the rate. Empty: until further notice.",
    )
    reason = reason_field()

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", "A rate must end on or after the day it starts.")
        return data


def _values(form: forms.Form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names}


def _form_page(request, form, *, title: str, action: str, jurisdiction=None):
    context = {"form": form, "title": title, "action": action, "jurisdiction": jurisdiction}
    return render(request, FORM_TEMPLATE, context, status=400 if request.method == "POST" else 200)


# -- reading --------------------------------------------------------------------------------------


@reads("revops.view_taxjurisdiction")
def tax_jurisdiction_list(request):
    form = JurisdictionFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = list(
        tax_selectors.tax_jurisdiction_list(search=data.get("q", ""), country=data.get("country", ""))[:500]
    )
    context = {
        "form": form,
        "jurisdictions": rows,
        "filtered": bool(data.get("q") or data.get("country")),
        "can_add": request.user.has_perm("revops.add_taxjurisdiction"),
    }
    return render_page(request, "revops/tax/list.html", context, partials={"results": "results"})


def _detail(request, pk: int, tab: str):
    try:
        jurisdiction = tax_selectors.tax_jurisdiction_detail(pk)
    except TaxJurisdiction.DoesNotExist:
        raise Http404("No tax jurisdiction with this id.") from None
    components = tax_selectors.jurisdiction_components(jurisdiction)
    for component in components:
        component.rate_text = tax.percent_text(component.rate)
    context = {
        "jurisdiction": jurisdiction,
        "components": components,
        "tab": tab,
        "can_change": request.user.has_perm("revops.change_taxjurisdiction"),
        "can_add_rate": request.user.has_perm("revops.add_taxratecomponent"),
        "can_change_rate": request.user.has_perm("revops.change_taxratecomponent"),
    }
    if tab == "history":
        context["history"] = object_history(jurisdiction)
    return render_page(request, "revops/tax/detail.html", context, partials={"tab-panel": tab})


@reads("revops.view_taxjurisdiction")
def tax_jurisdiction_detail_page(request, pk: int):
    return _detail(request, pk, "overview")


@reads("revops.view_taxjurisdiction")
def tax_jurisdiction_history(request, pk: int):
    return _detail(request, pk, "history")


# -- changing -------------------------------------------------------------------------------------

JURISDICTION_FIELDS = ("code", "name", "country", "region", "legal_entity", "notes")
COMPONENT_FIELDS = ("name", "authority", "type", "rate", "valid_from", "valid_to")


@edits("revops.add_taxjurisdiction")
def tax_jurisdiction_add(request):
    form = JurisdictionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            jurisdiction = tax.tax_jurisdiction_create(
                **_values(form, JURISDICTION_FIELDS),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Added tax jurisdiction {jurisdiction.code}; now add its rates.")
            return redirect("tax_jurisdiction_detail", pk=jurisdiction.pk)
    return _form_page(request, form, title="Add tax jurisdiction", action="Add jurisdiction")


@edits("revops.change_taxjurisdiction")
def tax_jurisdiction_edit(request, pk: int):
    jurisdiction = get_object_or_404(TaxJurisdiction, pk=pk)
    initial = {name: getattr(jurisdiction, name) for name in JURISDICTION_FIELDS}
    form = JurisdictionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = tax.tax_jurisdiction_update(
                jurisdiction=jurisdiction,
                changes=_values(form, JURISDICTION_FIELDS),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            what = ", ".join(result.changed) if result.changed else "nothing changed"
            messages.success(request, f"Saved {result.obj.code}: {what}.")
            return redirect("tax_jurisdiction_detail", pk=jurisdiction.pk)
    return _form_page(
        request,
        form,
        title=f"Edit tax jurisdiction {jurisdiction.code}",
        action="Save",
        jurisdiction=jurisdiction,
    )


@edits("revops.add_taxratecomponent")
def tax_component_add(request, pk: int):
    jurisdiction = get_object_or_404(TaxJurisdiction, pk=pk)
    form = ComponentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            component = tax.tax_component_add(
                jurisdiction=jurisdiction,
                **_values(form, COMPONENT_FIELDS),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Added {component.name} at {tax.percent_text(component.rate)} to {jurisdiction.code}.",
            )
            return redirect("tax_jurisdiction_detail", pk=jurisdiction.pk)
    return _form_page(
        request,
        form,
        title=f"Add a rate to {jurisdiction.code}",
        action="Add rate",
        jurisdiction=jurisdiction,
    )


@edits("revops.change_taxratecomponent")
def tax_component_edit(request, pk: int, component_pk: int):
    component = get_object_or_404(
        TaxRateComponent.objects.select_related("jurisdiction"), pk=component_pk, jurisdiction_id=pk
    )
    jurisdiction = component.jurisdiction
    initial = {name: getattr(component, name) for name in COMPONENT_FIELDS}
    form = ComponentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = tax.tax_component_update(
                component=component,
                changes=_values(form, COMPONENT_FIELDS),
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            what = ", ".join(result.changed) if result.changed else "nothing changed"
            messages.success(request, f"Saved {component.name} of {jurisdiction.code}: {what}.")
            return redirect("tax_jurisdiction_detail", pk=jurisdiction.pk)
    return _form_page(
        request,
        form,
        title=f"Edit {component.name} of {jurisdiction.code}",
        action="Save rate",
        jurisdiction=jurisdiction,
    )
