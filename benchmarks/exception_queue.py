"""The exception queue at a million items: how long the triage page takes.

Fills a dedicated PostgreSQL database (its name must contain "bench"; its
exception items, customers and legal entities are emptied) with N exception
items, half of them open, spread over codes, teams, assignees, legal entities,
connectors, customers and due times the way a busy finance team sees them,
using set-based SQL. Then requests the queue page through Django's test client
under production-like settings (DEBUG off) as a signed-in analyst: the default
view and filtered views, 20 times each, printing the median and p95 per page,
the SQL statements of one request (how many, their total and the slowest, in
ms), how many items the page says match, and a baseline (the login page, no
data access) measured in the same run. `--explain` prints the plan of
every query slower than --explain-ms.

    uv run python benchmarks/exception_queue.py                     # 1,000,000 items
    uv run python benchmarks/exception_queue.py --items 100000      # quicker
    uv run python benchmarks/exception_queue.py --skip-fill         # re-measure the same data
    uv run python benchmarks/exception_queue.py --skip-fill --explain

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench_queue
(--database-url); it is created if missing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

from _bench import get_ms, p95, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_queue"
TEAMS = ("Billing Operations", "Tax", "Accounts Receivable", "Revenue Accounting", "Integrations")
ASSIGNEES = 30  # people who work the queue, besides the user measuring
CONNECTORS = (
    "stripe-us",
    "stripe-eu",
    "salesforce",
    "avalara",
    "netsuite",
    "bank-camt",
    "usage-metering",
    "csv-import",
)
# Codes weighted the way a queue fills: tax and unknown customers often, unbalanced statements rarely.
CODE_MIX = (
    ["TAX_MISMATCH"] * 6
    + ["UNKNOWN_CUSTOMER"] * 5
    + ["UNKNOWN_PRODUCT"] * 3
    + ["AMOUNT_MISMATCH"] * 3
    + ["VALIDATION_FAILED"] * 3
    + ["LATE_USAGE"] * 2
    + ["DUPLICATE_DOCUMENT"] * 2
    + ["ERP_REJECTED"] * 2
    + ["RECONCILIATION_BREAK"] * 2
    + ["DEAD_LETTER"] * 2
    + ["OWNERSHIP_CONFLICT", "CURRENCY_MISMATCH", "INVALID_CONTRACT_STATE", "STATEMENT_UNBALANCED"]
)

FILL_SQL = """
TRUNCATE exceptions_queue_exceptioncomment, exceptions_queue_historicalexceptionitem,
         exceptions_queue_exceptionitem RESTART IDENTITY CASCADE;
TRUNCATE revops_paymentapplication, revops_payment, revops_invoiceline, revops_creditnoteline,
         revops_creditnote, revops_invoice, revops_usagerecord, revops_contractline,
         revops_contractamendment, revops_contract, revops_customercontact, revops_externalref,
         revops_customer, revops_legalentity RESTART IDENTITY CASCADE;

INSERT INTO revops_legalentity (code, name, country, functional_currency, tax_registration_number,
                                created_at, updated_at)
VALUES ('US01', 'Acme Cloud Inc.', 'US', 'USD', '12-3456789', now(), now()),
       ('DE01', 'Acme Cloud GmbH', 'DE', 'EUR', 'DE123456789', now(), now());

INSERT INTO revops_customer (number, name, legal_entity_id, status, currency, payment_terms_days,
    address_line1, address_line2, city, region, postal_code, country, tax_id, tax_country, tax_region,
    tax_exempt, exemption_certificate, created_at, updated_at)
SELECT 'C' || lpad(g::text, 8, '0'),
       (ARRAY['Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Soylent', 'Tyrell',
              'Cyberdyne', 'Wonka'])[1 + g %% 10] || ' ' || substr(md5(g::text), 1, 6) || ' '
         || (ARRAY['Inc.', 'GmbH', 'LLC', 'Ltd'])[1 + g %% 4],
       1 + g %% 2, 'active', CASE WHEN g %% 2 = 0 THEN 'USD' ELSE 'EUR' END, 30, '1 Main St', '',
       'Springfield', '', '00000', CASE WHEN g %% 2 = 0 THEN 'US' ELSE 'DE' END, '', '', '', false, '',
       now(), now()
FROM generate_series(1, %(customers)s) AS g;
"""

# One batch of items g in [start, stop]. Odd g are open (new, in review,
# resubmitted), even g closed (resolved, dismissed). Open items were last seen
# in the last 30 days and are due from 48 h ago to 8 days ahead (a fifth
# breaching, a tenth due within 24 h, a tenth without SLA); closed ones over
# the year before. Each attribute takes its own digits of a hash of g, so they
# vary independently.
ITEMS_SQL = """
INSERT INTO exceptions_queue_exceptionitem (
    code, severity, status, title, message, dedupe_key, step_key, source_system, connector_id,
    connector_name, sync_run_id, inbound_record_id, content_type_id, object_id, object_label,
    external_id, customer_id, correlation_id, legal_entity_id, amount, currency, payload,
    error_details, assignee_id, team_id, priority, due_at, occurrences, first_seen_at, last_seen_at,
    resolved_at, resolution_note, dismissed_reason, created_at, updated_at)
SELECT x.code, x.severity, x.status, x.code_label || ' on ' || x.label, '',
       x.code || '|bench:' || g || '|', x.step, 'stripe', x.connector, x.connector_name, NULL, NULL,
       NULL, NULL, x.label, 'ext_' || md5('e' || g), x.customer, md5('c' || (g / 4))::uuid,
       x.entity, x.amount, CASE WHEN x.amount IS NULL THEN '' WHEN x.entity = 1 THEN 'USD' ELSE 'EUR' END,
       '{}'::jsonb, '[]'::jsonb, x.assignee, x.team, x.priority, x.due_at, x.occurrences,
       x.first_seen, x.last_seen, CASE WHEN x.closed THEN x.last_seen + interval '1 hour' END,
       '', CASE WHEN x.status = 'dismissed' THEN 'Duplicate of an item already fixed' ELSE '' END,
       now(), now()
FROM generate_series(%(start)s, %(stop)s) AS g
CROSS JOIN LATERAL (
    SELECT (g %% 2 = 0) AS closed,
           (%(codes)s::text[])[1 + (g::bigint * 7) %% %(n_codes)s] AS code,
           ('x' || substr(md5(g::text), 1, 12))::bit(48)::bigint AS h,
           CASE WHEN g %% 2 = 0 THEN now() - interval '30 days' - ((g::bigint * 31) %% 480000) * interval '1 minute'
                ELSE now() - ((g::bigint * 97) %% 43200) * interval '1 minute' END AS last_seen
) AS b
CROSS JOIN LATERAL (
    SELECT b.code, b.closed,
           CASE WHEN b.closed THEN (CASE WHEN b.h %% 5 = 0 THEN 'dismissed' ELSE 'resolved' END)
                ELSE (ARRAY['new', 'new', 'new', 'new', 'new', 'new', 'in_review', 'in_review',
                            'in_review', 'resubmitted'])[1 + b.h %% 10] END AS status,
           (%(severities)s::jsonb) ->> b.code AS severity,
           (%(labels)s::jsonb) ->> b.code AS code_label,
           CASE WHEN b.code IN ('UNKNOWN_PRODUCT', 'INVALID_CONTRACT_STATE', 'LATE_USAGE')
                THEN 'CT-' || lpad((1 + g %% 200000)::text, 8, '0')
                ELSE 'INV-' || lpad(g::text, 9, '0') END AS label,
           'stripe.invoice' AS step,
           1 + (b.h / 100000) %% %(n_connectors)s AS connector,
           (%(connectors)s::text[])[1 + (b.h / 100000) %% %(n_connectors)s] AS connector_name,
           CASE WHEN (b.h / 1000) %% 10 < 7
                THEN 1 + ('x' || substr(md5('c' || g), 1, 8))::bit(32)::bigint %% %(customers)s END AS customer,
           1 + (b.h / 100000000) %% 2 AS entity,
           CASE WHEN (b.h / 10000) %% 5 = 0 THEN NULL
                ELSE round(((g::bigint * 104729) %% 1000000) / 100.0, 2) END AS amount,
           CASE WHEN (b.h / 10) %% 10 < 3 THEN NULL
                ELSE (%(users)s::bigint[])[1 + (b.h / 1000000) %% %(n_users)s] END AS assignee,
           (%(teams)s::bigint[])[1 + (b.h / 1000000000) %% %(n_teams)s] AS team,
           (ARRAY[1, 2, 2, 3, 3, 3, 3, 4, 4, 4])[1 + (b.h / 10000000000) %% 10] AS priority,
           CASE WHEN (b.h / 100) %% 10 = 9 THEN NULL
                WHEN b.closed THEN b.last_seen + interval '2 days'
                ELSE now() + (((g::bigint * 7919) %% 240) - 48) * interval '1 hour' END AS due_at,
           CASE WHEN (b.h / 100000000000) %% 50 = 0 THEN 2 + (b.h / 10000000000000) %% 200
                ELSE 1 + (b.h / 100000000000) %% 3 END AS occurrences,
           b.last_seen - ((b.h / 1000000000000) %% 96) * interval '1 hour' AS first_seen,
           b.last_seen
) AS x;
"""


def _fill(items: int, customers: int, *, batch: int = 100_000) -> None:
    import json

    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from exceptions_queue.codes import CODES
    from exceptions_queue.models import ExceptionItem

    _check_columns(ExceptionItem)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL % {"customers": int(customers)})
    teams = [Group.objects.get_or_create(name=name)[0].pk for name in TEAMS]
    users = [_user(f"analyst{n:02d}").pk for n in range(1, ASSIGNEES + 1)] + [_user("bench").pk]
    params = {
        "codes": _array(CODE_MIX),
        "n_codes": len(CODE_MIX),
        "severities": _literal(json.dumps({code: str(info.severity) for code, info in CODES.items()})),
        "labels": _literal(json.dumps({code: str(info.label) for code, info in CODES.items()})),
        "connectors": _array(CONNECTORS),
        "n_connectors": len(CONNECTORS),
        "customers": int(customers),
        "users": "ARRAY[" + ",".join(str(int(pk)) for pk in users) + "]",
        "n_users": len(users),
        "teams": "ARRAY[" + ",".join(str(int(pk)) for pk in teams) + "]",
        "n_teams": len(teams),
    }
    for start in range(1, items + 1, batch):
        stop = min(items, start + batch - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ITEMS_SQL % {**params, "start": start, "stop": stop})
        print(f"  {stop:,} items", end="\r", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE exceptions_queue_exceptionitem")
        cursor.execute("ANALYZE revops_customer")
    print(
        f"filled {items:,} exception items ({items // 2:,} open), {customers:,} customers, "
        f"{len(teams)} teams, {len(users)} assignees in {time.perf_counter() - started:.1f} s"
    )


def _user(username: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from revops.roles import FINANCE_ANALYST

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.groups.add(Group.objects.get(name=FINANCE_ANALYST))
    return user


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(values) -> str:
    return "ARRAY[" + ",".join(_literal(str(v)) for v in values) + "]"


def _check_columns(model) -> None:
    """The fill names every column the database needs a value for."""
    filled = set(
        ITEMS_SQL.split("SELECT", 1)[0].replace("(", " ").replace(")", " ").replace(",", " ").split()
    )
    missing = [
        field.column
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.column not in filled
    ]
    if missing:
        sys.exit(f"The fill does not set these columns of {model._meta.db_table}: {missing}")


# --------------------------------------------------------------------- measuring


class _Queries:
    """Counts the SQL a request runs and keeps the slowest statements."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - started) * 1000, sql, params))


def _pages(fragment: str, label: str, correlation: str, tax_team: int, connector: int) -> list[tuple]:
    htmx = {"HX-Request": "true", "HX-Target": "results"}
    return [
        ("default: open, newest first", "/exceptions/", {}),
        ("saved view: Breaching SLA", "/exceptions/?sla=breaching", {}),
        ("saved view: Assigned to me", "/exceptions/?assignee=me", {}),
        ("saved view: Unassigned", "/exceptions/?assignee=none", {}),
        ("Tax mismatch + team Tax", f"/exceptions/?code=TAX_MISMATCH&team={tax_team}", {}),
        (
            "connector + high priority, due soonest",
            f"/exceptions/?connector={connector}&priority=2&sort=due",
            {},
        ),
        ("all statuses, oldest first", "/exceptions/?status=all&sort=oldest", {}),
        ("open, most occurrences", "/exceptions/?sort=occurrences", {}),
        ("open, by priority", "/exceptions/?sort=priority", {}),
        (
            "amount 5,000–9,000 USD, older than 7 days",
            "/exceptions/?currency=USD&amount_min=5000&amount_max=9000&older_than=7",
            {},
        ),
        ("search: invoice number", f"/exceptions/?status=all&q={label}", {}),
        ("search: one customer's name", f"/exceptions/?q=Hooli%20{fragment}", {}),
        ("search: a name 5,000 customers share", "/exceptions/?q=Hooli", {}),
        ("search: correlation id", f"/exceptions/?status=all&q={correlation}", {}),
        ("htmx: results only, default view", "/exceptions/", htmx),
    ]


def _explain(statements, threshold_ms: float) -> None:
    from django.db import connection

    for elapsed, sql, params in statements:
        if elapsed < threshold_ms or not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join("      " + row[0] for row in cursor.fetchall())
        print(f"    {elapsed:.1f} ms: {sql[:300]}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-fill", action="store_true")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the plans of slow queries")
    parser.add_argument("--explain-ms", type=float, default=10.0)
    parser.add_argument("--only", default="", help="measure only pages whose label contains this text")
    args = parser.parse_args()

    setup_django(args.database_url, collectstatic=True)
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from exceptions_queue.models import ExceptionItem
    from revops.models import Customer

    if not args.skip_fill:
        _fill(args.items, args.customers)
    if args.fill_only:
        return

    user = _user("bench")
    client = Client()
    client.force_login(user)
    anonymous = Client()
    hooli = Customer.objects.filter(name__startswith="Hooli").order_by("id").first()
    sample = ExceptionItem.objects.filter(customer__isnull=False).order_by("-id").first()
    pages = _pages(
        fragment=hooli.name.split()[1],
        label=sample.object_label,
        correlation=str(sample.correlation_id),
        tax_team=Group.objects.get(name="Tax").pk,
        connector=sample.connector_id,
    )
    open_items = ExceptionItem.objects.filter(status__in=("new", "in_review", "resubmitted")).count()
    print(f"{ExceptionItem.objects.count():,} items, {open_items:,} open; {args.repeat} requests per page")

    baseline = get_ms(anonymous, "/login/", args.repeat, {})
    base_median = statistics.median(baseline)
    print(
        f"\n{'page':48} {'median ms':>10} {'p95 ms':>8} {'x login':>8} {'queries':>8} {'SQL ms':>7} {'slowest':>8}"
    )
    print(f"{'baseline: login page (no data access)':48} {base_median:10.1f} {p95(baseline):8.1f} {1:8.1f}")
    worst = 0.0
    for label, url, headers in pages:
        if args.only.lower() not in label.lower():
            continue
        queries = _Queries()
        with connection.execute_wrapper(queries):
            response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        found = re.search(r"· ([\d,+]+) items?</p>", response.content.decode())
        samples = get_ms(client, url, args.repeat, headers)
        median, tail = statistics.median(samples), p95(samples)
        worst = max(worst, tail)
        slowest = max((s[0] for s in queries.statements), default=0.0)
        total_sql = sum(s[0] for s in queries.statements)
        print(
            f"{label:48} {median:10.1f} {tail:8.1f} {median / base_median:8.1f} "
            f"{len(queries.statements):8d} {total_sql:7.1f} {slowest:8.1f} {found.group(1) if found else '?':>7}"
        )
        if args.explain:
            _explain(queries.statements, args.explain_ms)
    print(f"\nworst p95: {worst:.1f} ms (target < 150 ms)")


if __name__ == "__main__":
    main()
