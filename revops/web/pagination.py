"""Offset pagination that stays fast over a million rows.

The total is counted over at most REVOPS_LIST_COUNT_CAP + 1 rows (a LIMITed
subquery), so a broad filter costs a bounded index scan and the page says
"10,000+" instead of counting every row. Deep pages are refused past MAX_PAGE:
nobody reads page 5,000; they narrow the filter instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet

PER_PAGE = 50


def max_page(per_page: int = PER_PAGE) -> int:
    return max(1, settings.REVOPS_LIST_COUNT_CAP // per_page)


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    count: int
    count_capped: bool
    has_next: bool
    params: dict[str, str]

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    @property
    def num_pages(self) -> int | None:
        """None when the count is capped: the last page is not known."""
        if self.count_capped:
            return None
        return max(1, -(-self.count // self.per_page))

    @property
    def at_max_page(self) -> bool:
        return self.number >= max_page(self.per_page)

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"

    def query(self, **changes) -> str:
        """The current filters with some parameters changed, as a query string."""
        params = {**self.params, **{k: v for k, v in changes.items()}}
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})

    @property
    def next_query(self) -> str:
        return self.query(page=self.number + 1)

    @property
    def previous_query(self) -> str:
        return self.query(page=self.number - 1 if self.number > 2 else None)


def page_number(raw: str | None, per_page: int = PER_PAGE) -> int:
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), max_page(per_page))


def paginate(qs: QuerySet, *, page: str | None, params: dict[str, str], per_page: int = PER_PAGE) -> Page:
    """`params`: the list's other query parameters, kept in page and sort links."""
    cap = settings.REVOPS_LIST_COUNT_CAP
    number = page_number(page, per_page)
    count = qs.order_by()[: cap + 1].count()
    capped = count > cap
    last = max(1, -(-min(count, cap) // per_page))
    if not capped and number > last:
        number = last
    offset = (number - 1) * per_page
    rows = list(qs[offset : offset + per_page + 1])
    items = rows[:per_page]
    has_next = len(rows) > per_page and number < max_page(per_page)
    return Page(
        items=items,
        number=number,
        per_page=per_page,
        count=min(count, cap),
        count_capped=capped,
        has_next=has_next,
        params={k: v for k, v in params.items() if k != "page"},
    )
