"""Cursor pages: stable under inserts, fast however deep (no OFFSET scan).
`page_size` from 1 to 200 (a bad value is a 400, not ignored); `next` and
`previous` are opaque links."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from revops.api.errors import Unprocessable


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
    invalid_cursor_message = "This page link is not valid; start again from the first page."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            raise ValidationError({self.cursor_query_param: ["Leave the cursor out for the first page."]})
        try:
            return super().decode_cursor(request)
        except NotFound:
            # Well-formed text that is no page link of ours: refused, not read as page one.
            raise Unprocessable({self.cursor_query_param: [self.invalid_cursor_message]}) from None

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif param["name"] == self.cursor_query_param:
                param["schema"] = {"type": "string", "minLength": 1}
        return params
