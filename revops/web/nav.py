"""Navigation entries other apps add to the top bar.

The exception queue, connectors and reconciliation each register their pages
from their `AppConfig.ready()`, so the shell links to them without importing
them:

    from revops.web.nav import register_nav_item
    register_nav_item("Exceptions", "exceptions_queue:list", permission="exceptions_queue.view_exceptionitem")
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    order: int = 100


_ITEMS: dict[str, NavItem] = {}


def register_nav_item(label: str, url_name: str, *, permission: str, order: int = 100) -> None:
    """Add (or replace, by URL name) a top-bar link shown to users with `permission`."""
    _ITEMS[url_name] = NavItem(label, url_name, permission, order)


def nav_items_for(user, current_namespace: str = "") -> list[dict]:
    items = []
    for item in sorted(_ITEMS.values(), key=lambda i: (i.order, i.label)):
        if not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        namespace = item.url_name.split(":")[0] if ":" in item.url_name else ""
        items.append(
            {"label": item.label, "url": url, "current": bool(namespace) and namespace == current_namespace}
        )
    return items
