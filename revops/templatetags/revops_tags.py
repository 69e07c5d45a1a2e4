"""Display helpers: money with its currency's minor units, quantities, status
pills, sortable column headers and links to the object a history entry names."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from revops.money import format_amount
from revops.web.nav import nav_items_for

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """1234.5, "USD" → "1,234.50 USD"; empty for no amount."""
    if amount is None or amount == "":
        return ""
    return f"{format_amount(Decimal(amount), currency)} {currency}"


@register.filter
def amount(value, currency: str) -> str:
    """The number alone, in the currency's minor units (the code is in a column header)."""
    if value is None or value == "":
        return ""
    return format_amount(Decimal(value), currency)


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros: 10.500000 → 10.5."""
    if value is None or value == "":
        return ""
    normalized = Decimal(value).normalize()
    return f"{normalized:,f}"


@register.simple_tag
def pill(value: str, label: str = "") -> str:
    return format_html('<span class="pill pill-{}">{}</span>', value or "none", label or value or "—")


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, key: str, css: str = "") -> str:
    """A column header that sorts by `key`; clicking again reverses it.
    Only keys the list allows (each backed by an index) should be passed."""
    current = context.get("sort", "")
    page = context["page"]
    if current == key:
        target, state, arrow = f"-{key}", "ascending", "▲"
    elif current == f"-{key}":
        target, state, arrow = key, "descending", "▼"
    else:
        target, state, arrow = (f"-{key}" if key.endswith("date") else key), "none", ""
    url = "?" + page.query(sort=target, page=None)
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="{}" hx-get="{}" hx-target="#results" '
        'hx-swap="outerHTML" hx-push-url="true">{} <span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css,
        state,
        url,
        url,
        label,
        arrow,
    )


_ENTRY_URLS = {
    "customer": ("customer_detail", False),
    "customercontact": ("customer_detail", True),
    "contract": ("contract_detail", False),
    "invoice": ("invoice_detail", False),
    "payment": ("payment_detail", False),
    "ownershiprule": ("ownership_rule_list", None),
}


@register.filter
def entry_url(entry) -> str:
    """The page of the object a history entry is about ("" when it has none)."""
    name, by_parent = _ENTRY_URLS.get(entry.model_name, (None, None))
    if name is None:
        return ""
    try:
        if by_parent is None:
            return reverse(name)
        return reverse(name, args=[entry.parent_id if by_parent else entry.object_id])
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def registered_nav(context) -> list[dict]:
    """Top-bar links other apps registered (see revops.web.nav) that this user may open."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    match = getattr(request, "resolver_match", None)
    return nav_items_for(user, match.namespace if match else "")
