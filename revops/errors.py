"""Errors the services raise. Both are ValidationErrors so forms and the API can
show them field by field."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class DomainValidationError(ValidationError):
    """Input that breaks a business rule; `message_dict` maps field → messages."""


class OwnershipConflict(ValidationError):
    """A change to fields owned by another system. `fields` maps field → owner."""

    def __init__(self, fields: dict[str, str], object_type: str):
        self.fields = dict(fields)
        self.object_type = object_type
        super().__init__(
            {
                field: [
                    f"{object_type}.{field} is owned by {owner}; changing it here needs an ownership "
                    "override with a reason."
                ]
                for field, owner in fields.items()
            }
        )


def field_error(field: str, message: str) -> DomainValidationError:
    return DomainValidationError({field: [message]})
