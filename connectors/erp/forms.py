"""The ERP mapping form: ids as text, tax codes and item ids one "key = id" per line."""

from __future__ import annotations

from django import forms

from revops.web.forms import reason_field

ID_FIELDS = ("subsidiary_id", "ar_account_id", "cash_account_id", "default_item_id")


def _pairs_text(value: dict[str, str]) -> str:
    return "\n".join(f"{key} = {item}" for key, item in sorted((value or {}).items()))


def _parse_pairs(text: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise forms.ValidationError(f"Line {number}: write {what} = id, e.g. {line or 'US-CA'} = 8")
        if key in pairs:
            raise forms.ValidationError(f"Line {number}: {key} is given twice")
        pairs[key] = value
    return pairs


class ErpMappingForm(forms.Form):
    subsidiary_id = forms.CharField(label="Subsidiary id", max_length=40, required=False)
    ar_account_id = forms.CharField(label="AR account id", max_length=40, required=False)
    cash_account_id = forms.CharField(
        label="Cash account id",
        max_length=40,
        required=False,
        help_text="Undeposited funds or bank, for payments",
    )
    default_item_id = forms.CharField(
        label="Default item id", max_length=40, required=False, help_text="For lines without a mapped product"
    )
    tax_codes = forms.CharField(
        label="Tax codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text='One per line: a jurisdiction, a rate or "default", then = and the tax code id (US-CA = 8, 19 = 12)',
    )
    item_ids = forms.CharField(
        label="Item ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line: product SKU = item id",
    )
    reason = reason_field()

    @classmethod
    def for_mapping(cls, mapping, data=None) -> ErpMappingForm:
        initial = {}
        if mapping is not None:
            initial = {name: getattr(mapping, name) for name in ID_FIELDS}
            initial["tax_codes"] = _pairs_text(mapping.tax_codes)
            initial["item_ids"] = _pairs_text(mapping.item_ids)
        return cls(data=data, initial=initial)

    def clean_tax_codes(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("tax_codes", ""), "jurisdiction or rate")

    def clean_item_ids(self) -> dict[str, str]:
        return _parse_pairs(self.cleaned_data.get("item_ids", ""), "SKU")

    def values(self) -> dict:
        return {
            **{name: self.cleaned_data[name].strip() for name in ID_FIELDS},
            "tax_codes": self.cleaned_data["tax_codes"],
            "item_ids": self.cleaned_data["item_ids"],
        }
