"""Cursor pages: stable under inserts, fast however deep (no OFFSET scan).
`page_size` up to 200; `next`/`previous` are opaque links."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
    invalid_cursor_message = "This page link is not valid; start again from the first page."
