"""`ordering`: one of the fields a list names, `-` for descending. An unknown
field is a 400 naming the ones allowed, never silently ignored."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


class StrictOrdering(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = list(getattr(view, "ordering_fields", None) or [])
        fields = [part.strip() for part in raw.split(",")]
        if len(fields) != 1 or fields[0].lstrip("-") not in allowed:
            choices = ", ".join(allowed)
            raise ValidationError(
                {self.ordering_param: [f"Order by one of: {choices} (prefix - to reverse)."]}
            )
        return fields

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        allowed = list(getattr(view, "ordering_fields", None) or [])
        for param in params:
            param["schema"] = {"type": "string", "enum": [*allowed, *(f"-{name}" for name in allowed)]}
        return params
