"""Bulk dismiss by filter at 10,000 items: what an analyst does when a bad feed
floods the queue.

Fills a dedicated PostgreSQL database (its name must contain "bench"; its
exception items are emptied) with N open items of one code plus other items
that must stay untouched, then, as a signed-in analyst through Django's test
client: opens the confirmation page for "everything matching code=X" (timed),
confirms it (timed; the action is queued for the worker), and runs the
worker's task in this process (timed), as the Django-Q2 cluster would. It
checks that exactly the N items were dismissed, each with its history row,
and prints the figures as JSON.

    uv run python benchmarks/bulk_actions.py                 # 10,000 items
    uv run python benchmarks/bulk_actions.py --items 2000    # quicker

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench_bulk
(--database-url); it is created and migrated if needed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from _bench import setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_bulk"


def _fill(items: int, others: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from exceptions_queue.models import BulkAction, ExceptionItem

    BulkAction.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {ExceptionItem.history.model._meta.db_table}, "
            f"{ExceptionItem._meta.db_table} RESTART IDENTITY CASCADE"
        )
    now = timezone.now()

    def row(n: int, code: str) -> ExceptionItem:
        return ExceptionItem(
            code=code,
            severity="low",
            title=f"Usage event ev_{n} arrived after its period was invoiced",
            dedupe_key=f"{code}|bench:{n}",
            step_key="bench.usage",
            connector_name="usage-feed",
            external_id=f"ev_{n}",
            priority=4,
            first_seen_at=now,
            last_seen_at=now,
        )

    batch = [row(n, "LATE_USAGE") for n in range(items)] + [row(n, "UNKNOWN_CUSTOMER") for n in range(others)]
    ExceptionItem.objects.bulk_create(batch, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument(
        "--others", type=int, default=1_000, help="items of another code, which must stay open"
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    # Every action goes to the worker, even with a small --items, so the worker's task is what is timed.
    setup_django(args.database_url, REVOPS_BULK_INLINE_MAX="0")
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # the test client records each page's context
    from django.contrib.auth import get_user_model

    from exceptions_queue import bulk
    from exceptions_queue.models import BulkAction, ExceptionItem
    from revops.roles import FINANCE_ANALYST

    analyst, _ = get_user_model().objects.get_or_create(username="bench-analyst")
    analyst.groups.add(Group.objects.get(name=FINANCE_ANALYST))

    started = time.perf_counter()
    _fill(args.items, args.others)
    fill_s = time.perf_counter() - started

    client = Client()
    client.force_login(analyst)
    url = reverse("exceptions_queue:bulk_confirm")
    timings = []
    for _ in range(5):  # the first request also loads templates and URLconf: report the median
        started = time.perf_counter()
        page = client.get(url, {"action": "dismiss", "scope": "filter", "code": "LATE_USAGE"})
        timings.append((time.perf_counter() - started) * 1000)
    confirm_page_ms = statistics.median(timings)
    assert page.status_code == 200, page.status_code
    hidden = dict(page.context["hidden"])
    count = page.context["count"]
    assert count == args.items, (count, args.items)

    started = time.perf_counter()
    response = client.post(
        url, {**hidden, "expected_count": str(count), "reason": "Usage feed replayed twice"}
    )
    confirm_post_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 302, response.content[:500]
    action = BulkAction.objects.latest("id")

    history_before = ExceptionItem.history.count()
    started = time.perf_counter()
    bulk.run_bulk_action(action.pk)  # what the Django-Q2 worker runs
    task_s = time.perf_counter() - started
    action.refresh_from_db()

    dismissed = ExceptionItem.objects.filter(code="LATE_USAGE", status="dismissed").count()
    untouched = ExceptionItem.objects.filter(code="UNKNOWN_CUSTOMER", status="new").count()
    history_rows = ExceptionItem.history.count() - history_before
    ok = (
        action.state == "done"
        and dismissed == args.items
        and untouched == args.others
        and history_rows == args.items
        and action.succeeded == args.items
    )
    print(
        json.dumps(
            {
                "items": args.items,
                "fill_seconds": round(fill_s, 1),
                "confirmation_page_median_ms": round(confirm_page_ms, 1),
                "confirm_and_queue_ms": round(confirm_post_ms, 1),
                "task_seconds": round(task_s, 1),
                "items_per_second": round(args.items / task_s),
                "dismissed": dismissed,
                "other_items_left_open": untouched,
                "history_rows_written": history_rows,
                "state": action.state,
                "ok": ok,
            },
            indent=2,
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
