"""Format checks for identifiers whose shape depends on the country, and a
model's own field validation applied to plain values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# Tax identification numbers by country: VAT numbers for the EU, GB, CH, NO;
# EIN for the US; GST/HST business number for CA; ABN for AU; GSTIN for IN.
# The prefix (e.g. "DE") is optional where the country uses one.
_TAX_ID_PATTERNS: dict[str, tuple[str, str]] = {
    "AT": (r"(AT)?U\d{8}", "ATU followed by 8 digits"),
    "BE": (r"(BE)?[01]\d{9}", "BE followed by 10 digits starting with 0 or 1"),
    "BG": (r"(BG)?\d{9,10}", "BG followed by 9 or 10 digits"),
    "CY": (r"(CY)?\d{8}[A-Z]", "CY followed by 8 digits and a letter"),
    "CZ": (r"(CZ)?\d{8,10}", "CZ followed by 8 to 10 digits"),
    "DE": (r"(DE)?\d{9}", "DE followed by 9 digits"),
    "DK": (r"(DK)?\d{8}", "DK followed by 8 digits"),
    "EE": (r"(EE)?\d{9}", "EE followed by 9 digits"),
    "ES": (r"(ES)?[A-Z0-9]\d{7}[A-Z0-9]", "ES followed by 9 characters"),
    "FI": (r"(FI)?\d{8}", "FI followed by 8 digits"),
    "FR": (r"(FR)?[A-HJ-NP-Z0-9]{2}\d{9}", "FR followed by 2 characters and 9 digits"),
    "GR": (r"(EL|GR)?\d{9}", "EL followed by 9 digits"),
    "HR": (r"(HR)?\d{11}", "HR followed by 11 digits"),
    "HU": (r"(HU)?\d{8}", "HU followed by 8 digits"),
    "IE": (r"(IE)?\d{7}[A-W][A-I]?|(IE)?\d[A-Z+*]\d{5}[A-W]", "IE followed by 8 or 9 characters"),
    "IT": (r"(IT)?\d{11}", "IT followed by 11 digits"),
    "LT": (r"(LT)?(\d{9}|\d{12})", "LT followed by 9 or 12 digits"),
    "LU": (r"(LU)?\d{8}", "LU followed by 8 digits"),
    "LV": (r"(LV)?\d{11}", "LV followed by 11 digits"),
    "MT": (r"(MT)?\d{8}", "MT followed by 8 digits"),
    "NL": (r"(NL)?\d{9}B\d{2}", "NL followed by 9 digits, B and 2 digits"),
    "PL": (r"(PL)?\d{10}", "PL followed by 10 digits"),
    "PT": (r"(PT)?\d{9}", "PT followed by 9 digits"),
    "RO": (r"(RO)?\d{2,10}", "RO followed by 2 to 10 digits"),
    "SE": (r"(SE)?\d{10}01", "SE followed by 12 digits ending in 01"),
    "SI": (r"(SI)?\d{8}", "SI followed by 8 digits"),
    "SK": (r"(SK)?\d{10}", "SK followed by 10 digits"),
    "GB": (r"(GB)?(\d{9}|\d{12}|GD\d{3}|HA\d{3})", "GB followed by 9 or 12 digits"),
    "CH": (r"(CHE)?\d{9}(MWST|TVA|IVA)?", "CHE followed by 9 digits, optionally MWST/TVA/IVA"),
    "NO": (r"(NO)?\d{9}(MVA)?", "NO followed by 9 digits, optionally MVA"),
    "US": (r"\d{2}-?\d{7}", "an EIN: 2 digits, a dash, 7 digits (12-3456789)"),
    "CA": (r"\d{9}(RT\d{4})?", "a 9-digit business number, optionally RT and 4 digits"),
    "AU": (r"\d{11}", "an 11-digit ABN"),
    "IN": (r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]", "a 15-character GSTIN"),
}

COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def normalise_tax_id(value: str) -> str:
    return re.sub(r"[\s.]", "", value or "").upper()


def tax_id_problem(tax_id: str, country: str) -> str | None:
    """None when `tax_id` fits `country`'s format, else what is expected."""
    if not tax_id:
        return None
    if not country:
        return "Set the tax country so the tax id can be checked."
    pattern = _TAX_ID_PATTERNS.get(country)
    if pattern is None:
        # No known format: accept letters, digits and dashes only.
        if re.fullmatch(r"[A-Z0-9-]{4,40}", tax_id):
            return None
        return "A tax id may only contain letters, digits and dashes (4 to 40 characters)."
    regex, expected = pattern
    if re.fullmatch(regex, tax_id):
        return None
    return f"{tax_id} is not a valid {country} tax id; expected {expected}."


def supports_tax_id_format(country: str) -> bool:
    return country in _TAX_ID_PATTERNS


# -- a model's field validation over plain values -----------------------------------------------

_DEFAULTS: dict[type[models.Model], tuple[dict[str, Any], dict[str, list]]] = {}


def _constant_defaults(model: type[models.Model]) -> tuple[dict[str, Any], dict[str, list]]:
    """Each concrete field's default (attname → value; callable defaults left
    out) and, once per model, what `clean_fields` says about it (field name →
    error list): a default is the same value for every row."""
    cached = _DEFAULTS.get(model)
    if cached is None:
        values, errors = {}, {}
        for f in model._meta.concrete_fields:
            if f.has_default() and callable(f.default):
                continue
            values[f.attname] = value = f.get_default()
            problem = _field_problem(f, value)
            if problem is not None:
                errors[f.name] = problem
        cached = _DEFAULTS[model] = (values, errors)
    return cached


def _field_problem(f: models.Field, value: Any) -> list | None:
    """`Model.clean_fields` for one field: None when it passes."""
    if f.generated or (f.blank and value in f.empty_values):
        return None
    try:
        f.clean(value, None)
    except ValidationError as exc:
        return exc.error_list
    return None


_CALLED = object()  # a default made anew for each row (a callable's)
_PLANS: dict[type[models.Model], list[tuple[models.Field, str, str, bool, Any]]] = {}


def _plan(model: type[models.Model]) -> list[tuple[models.Field, str, str, bool, Any]]:
    """Per concrete field: (field, attname, name, is a relation, constant default or _CALLED)."""
    plan = _PLANS.get(model)
    if plan is None:
        defaults = _constant_defaults(model)[0]
        plan = _PLANS[model] = [
            (f, f.attname, f.name, f.is_relation, defaults.get(f.attname, _CALLED))
            for f in model._meta.concrete_fields
        ]
    return plan


def model_values(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every concrete column of `model` (attname → value, in the model's field
    order) for a row made from `values` (field names or attnames; a related
    object gives its key), the fields not given holding their defaults, as
    `model(**values)` would."""
    row = {}
    for f, attname, name, relation, default in _plan(model):
        if attname in values:
            row[attname] = values[attname]
        elif name in values:
            value = values[name]
            row[attname] = value.pk if relation and value is not None else value
        elif default is not _CALLED:
            row[attname] = default
        else:
            row[attname] = f.get_default()
    return row


_PLAIN: dict[type[models.Model], bool] = {}


def _plain(model: type[models.Model]) -> bool:
    """Whether building an instance is only Model.__init__ storing each
    concrete field's value in its __dict__: the model has no __init__ of its
    own, and no field's class attribute does more on assignment than a
    foreign key's id does (forget a cached object, which a new instance has
    not got)."""
    plain = _PLAIN.get(model)
    if plain is None:
        plain = _PLAIN[model] = model.__init__ is models.Model.__init__ and all(
            type(getattr(model, f.attname, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
            for f in model._meta.concrete_fields
        )
    return plain


def model_instance(model: type[models.Model], values: Mapping[str, Any]) -> models.Model:
    """`model(**values)`, built from `model_values` (several times cheaper than
    keyword construction); related objects given by field name are cached on
    it as keyword construction caches them."""
    row = model_values(model, values)
    if _plain(model) and not (pre_init.has_listeners(model) or post_init.has_listeners(model)):
        # What Model.__init__ leaves when every attribute is a plain one and no
        # init signal has a receiver, at half its cost (measured 8 against 17 µs
        # for an invoice; the bulk path builds one or two models a record).
        obj = model.__new__(model)
        obj._state = ModelState()
        obj.__dict__.update(row)
    else:
        obj = model(*row.values())
    for f, _, name, relation, _ in _plan(model):
        if relation and name in values:
            f.set_cached_value(obj, values[name])
    return obj


def field_errors(
    model: type[models.Model], values: Mapping[str, Any], *, exclude: Iterable[str] = ()
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """What `model(**values).full_clean(exclude, validate_unique=False,
    validate_constraints=False)` checks, without building the instance: the
    model's own fields validate `values` (attnames or field names); a field
    not given holds its default, whose verdict is worked out once per model.
    Returns the cleaned values (as `clean_fields` leaves them on an instance,
    attname → value, only for the fields given) and the errors (field name →
    messages, as `ValidationError.message_dict` gives them)."""
    if model.clean is not models.Model.clean:
        raise TypeError(f"{model.__name__} has its own clean(); validate an instance instead.")
    excluded = set(exclude)
    default_errors = _constant_defaults(model)[1]
    cleaned: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for f in model._meta.fields:
        if f.name in excluded or f.generated:
            continue
        if f.attname in values:
            value = values[f.attname]
        elif f.name in values:
            value = values[f.name]
            value = value.pk if f.is_relation and value is not None else value
        elif f.has_default() and callable(f.default):
            value = f.get_default()
        else:
            if f.name in default_errors:
                errors[f.name] = default_errors[f.name]
            continue
        if f.blank and value in f.empty_values:
            continue
        try:
            cleaned[f.attname] = f.clean(value, None)
        except ValidationError as exc:
            errors[f.name] = exc.error_list
    return cleaned, (ValidationError(errors).message_dict if errors else {})
