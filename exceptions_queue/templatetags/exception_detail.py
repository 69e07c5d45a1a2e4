"""Template helpers of the exception item detail page: the payload as an
indented tree with the failing values highlighted, and small time labels."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from exceptions_queue.payload_paths import as_text

register = template.Library()

# A payload with more values than this is shown collapsed, except the branches
# that lead to a failing value.
LARGE_PAYLOAD_NODES = 60
# Never render more than this many values, whatever the payload's size.
MAX_NODES = 3000
MAX_LIST_ITEMS = 200


def _count(value: Any, limit: int) -> int:
    """Values in `value`, counting up to `limit` at most."""
    stack, seen = [value], 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return seen


class _Tree:
    def __init__(self, failing: set[str], corrected: dict[str, Any], large: bool):
        self.failing = failing
        self.corrected = corrected
        self.large = large
        self.budget = MAX_NODES
        # Every ancestor of a failing or corrected path, so its branch opens.
        self.on_path: set[str] = set()
        for path in failing | set(corrected):
            parts = path.split(".")
            for i in range(1, len(parts)):
                self.on_path.add(".".join(parts[:i]))

    # Built as plain strings with every value escaped: a payload has thousands
    # of values, and format_html per value costs more than the rest of the page.
    def leaf(self, value: Any) -> str:
        if value is None:
            return '<span class="pt-null">null</span>'
        if isinstance(value, bool):
            return f'<span class="pt-bool">{"true" if value else "false"}</span>'
        if isinstance(value, int | float):
            return f'<span class="pt-num">{_esc(value)}</span>'
        return f'<span class="pt-str">"{_esc(value)}"</span>'

    def children(self, value: dict | list, path: str, out: list[str]) -> None:
        if isinstance(value, dict):
            pairs: Iterable = value.items()
        else:
            pairs = ((str(i), v) for i, v in enumerate(value[:MAX_LIST_ITEMS]))
        out.append('<ul class="pt-list">')
        shown = 0
        for key, child in pairs:
            if self.budget <= 0:
                break
            self.node(str(key), child, f"{path}.{key}" if path else str(key), out)
            shown += 1
        if shown < len(value):
            out.append(f'<li class="pt-more muted">… {len(value) - shown} more not shown</li>')
        out.append("</ul>")

    def node(self, key: str, value: Any, path: str, out: list[str]) -> None:
        self.budget -= 1
        failing = path in self.failing
        css = "pt-fail" if failing else ""
        if path in self.corrected:
            css += " pt-corrected"
        if isinstance(value, dict | list):
            size = f"{{{len(value)} keys}}" if isinstance(value, dict) else f"[{len(value)} items]"
            is_open = not self.large or path in self.on_path or failing
            out.append(
                f'<li class="pt-node {css}" data-path="{_esc(path)}"><details{" open" if is_open else ""}>'
                f'<summary><span class="pt-key">{_esc(key)}</span> <span class="pt-size">{size}</span></summary>'
            )
            self.children(value, path, out)
            out.append("</details></li>")
            return
        correction = ""
        if path in self.corrected:
            correction = (
                ' <span class="pt-arrow" aria-hidden="true">→</span> '
                f'<span class="new" title="Corrected value">{_esc(as_text(self.corrected[path]))}</span>'
            )
        out.append(
            f'<li class="pt-leaf {css}" data-path="{_esc(path)}"><span class="pt-key">{_esc(key)}</span>: '
            f"{self.leaf(value)}{correction}</li>"
        )


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


@register.simple_tag
def payload_tree(payload: Any, failing: Iterable[str] = (), corrected: dict | None = None) -> SafeString:
    """The payload as nested lists; failing paths marked `pt-fail`, corrected ones
    show their new value. Large payloads open only along the failing paths."""
    corrected = {k: v for k, v in (corrected or {}).items() if not str(k).startswith("_")}
    large = _count(payload, LARGE_PAYLOAD_NODES + 1) > LARGE_PAYLOAD_NODES
    tree = _Tree(set(failing), corrected, large)
    if isinstance(payload, dict | list) and not payload:
        return format_html('<p class="empty">{}</p>', "The item carries no payload.")
    out: list[str] = []
    if isinstance(payload, dict | list):
        tree.children(payload, "", out)
    else:
        out.append('<ul class="pt-list">')
        tree.node("value", payload, "", out)
        out.append("</ul>")
    body = mark_safe("".join(out))  # noqa: S308 - every value in it is escaped by _esc
    note = ""
    if tree.budget <= 0:
        note = format_html('<p class="muted">Only the first {} values are shown.</p>', MAX_NODES)
    return format_html('<div class="payload-tree">{}{}</div>', body, note)


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.simple_tag
def since(when: dt.datetime | None, empty: str = "—") -> SafeString:
    """ "3 hours ago" with the exact UTC time on hover; "in 2 hours" for a future time."""
    if when is None:
        return format_html('<span class="muted">{}</span>', empty)
    now = timezone.now()
    exact = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if when <= now:
        label = f"{timesince(when, now).split(',')[0]} ago"
    else:
        label = f"in {timesince(now, when).split(',')[0]}"
    return format_html('<time datetime="{}" title="{}">{}</time>', when.isoformat(), exact, label)


@register.filter
def value_text(value: Any) -> str:
    return as_text(value)
