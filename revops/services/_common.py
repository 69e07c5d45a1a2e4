"""Helpers shared by the service modules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from revops.errors import DomainValidationError


def reject_unknown(changes: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainValidationError(
            {name: [f"{what} field {name!r} cannot be changed here."] for name in unknown}
        )


def clean_fields(instance: models.Model, exclude: Iterable[str] = (), *, unique: bool = True) -> None:
    """Run the model's field validation and re-raise as a DomainValidationError.
    `unique=False` skips the uniqueness queries (the caller checks them)."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=unique, validate_constraints=False)
    except ValidationError as exc:
        raise DomainValidationError(exc.message_dict) from None


def changed_fields(instance: models.Model, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Only the entries of `changes` that differ from the instance's current values."""
    return {name: value for name, value in changes.items() if getattr(instance, name) != value}


@dataclass
class UpdateResult:
    """What an update did: `changed` lists the fields written, `refused` maps the
    fields another system owns to that system (recorded as refusals)."""

    obj: Any
    changed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def was_changed(self) -> bool:
        return bool(self.changed)
