"""Forms of the file-import pages: upload a file, and edit a column mapping
(one text box per canonical field for the CSV column that feeds it)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from connectors.files.fields import FIELDS
from connectors.files.services import max_bytes
from connectors.models import FILE_OBJECT_TYPES, ColumnMapping, Connector
from revops.web.forms import ChangeForm, reason_field

KIND = "file"


def file_connectors():
    return Connector.objects.filter(kind=KIND).select_related("legal_entity").order_by("name")


class MappingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ColumnMapping) -> str:
        return f"{obj.connector.name} · {obj.get_object_type_display()} · {obj.name}"


class UploadForm(forms.Form):
    connector = forms.ModelChoiceField(
        queryset=file_connectors(), empty_label="Choose a connector", label="Connector"
    )
    object_type = forms.ChoiceField(choices=[("", "Choose what the file holds"), *FILE_OBJECT_TYPES])
    mapping = MappingChoiceField(
        queryset=ColumnMapping.objects.filter(connector__kind=KIND).select_related("connector"),
        required=False,
        empty_label="The only mapping for this connector and object type",
        label="Column mapping",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM), a header row, at most 20 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].queryset = file_connectors()
        self.fields["object_type"].label = "Object type"
        limit = max_bytes() // 1_048_576
        self.fields["file"].help_text = f"UTF-8 (with or without BOM), a header row, at most {limit} MB."

    def clean(self):
        data = super().clean()
        connector, object_type, mapping = data.get("connector"), data.get("object_type"), data.get("mapping")
        if connector is None or not object_type:
            return data
        if mapping is not None:
            if mapping.connector_id != connector.pk or mapping.object_type != object_type:
                self.add_error(
                    "mapping",
                    f"Mapping {mapping.name} is for {mapping.connector.name} "
                    f"{mapping.get_object_type_display().lower()}; choose one for {connector.name} "
                    f"{dict(FILE_OBJECT_TYPES)[object_type].lower()}.",
                )
            return data
        candidates = list(ColumnMapping.objects.filter(connector=connector, object_type=object_type)[:2])
        if len(candidates) == 1:
            data["mapping"] = candidates[0]
        elif not candidates:
            self.add_error(
                "mapping",
                f"{connector.name} has no column mapping for {object_type} files yet; create one first.",
            )
        else:
            self.add_error("mapping", f"{connector.name} has several {object_type} mappings; choose one.")
        return data


class MappingTargetForm(forms.Form):
    """Step one of a new mapping: which connector and object type it is for."""

    connector = forms.ModelChoiceField(queryset=file_connectors(), empty_label="Choose a connector")
    object_type = forms.ChoiceField(choices=[("", "Choose an object type"), *FILE_OBJECT_TYPES])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].queryset = file_connectors()
        self.fields["object_type"].label = "Object type"


class MappingForm(ChangeForm):
    """The mapping's name and options, then one CSV column name per canonical field."""

    name = forms.CharField(max_length=100, help_text="e.g. “CRM export”")
    delimiter = forms.ChoiceField(choices=ColumnMapping.Delimiter.choices, initial=",")
    thousands_separator = forms.ChoiceField(
        choices=ColumnMapping.Thousands.choices, required=False, label="Thousands separator"
    )
    decimal_separator = forms.ChoiceField(
        choices=ColumnMapping.DecimalMark.choices, initial=".", label="Decimal mark"
    )
    date_format = forms.CharField(
        max_length=40,
        required=False,
        label="Date format",
        help_text="Empty means YYYY-MM-DD; otherwise strftime codes, e.g. %d/%m/%Y.",
    )

    def __init__(self, *args, object_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.object_type = object_type
        for spec in FIELDS[object_type]:
            self.fields[f"column_{spec.name}"] = forms.CharField(
                label=f"{spec.label} column",
                required=spec.required,
                max_length=200,
                help_text=spec.help,
                error_messages={"required": f"{spec.label} is required: name the CSV column that holds it."},
            )
        self.fields["reason"] = reason_field()

    def column_fields(self):
        return [self[f"column_{spec.name}"] for spec in FIELDS[self.object_type]]

    def option_fields(self):
        return [
            self[name]
            for name in ("name", "delimiter", "thousands_separator", "decimal_separator", "date_format")
        ]

    def columns(self) -> dict[str, str]:
        return {
            spec.name: self.cleaned_data.get(f"column_{spec.name}") or "" for spec in FIELDS[self.object_type]
        }

    def clean(self):
        data = super().clean()
        if data.get("thousands_separator") and data.get("thousands_separator") == data.get(
            "decimal_separator"
        ):
            raise ValidationError("The thousands separator must differ from the decimal mark.")
        return data


def mapping_initial(mapping: ColumnMapping) -> dict:
    initial = {
        "name": mapping.name,
        "delimiter": mapping.delimiter,
        "thousands_separator": mapping.thousands_separator,
        "decimal_separator": mapping.decimal_separator,
        "date_format": mapping.date_format,
    }
    initial.update({f"column_{name}": column for name, column in mapping.mapping.items()})
    return initial


def new_mapping_initial(object_type: str) -> dict:
    """Required fields suggest a column named like the field, so a file written
    with the canonical names needs no typing."""
    initial = {"delimiter": ",", "decimal_separator": ".", "thousands_separator": ""}
    initial.update({f"column_{spec.name}": spec.name for spec in FIELDS[object_type] if spec.required})
    return initial
