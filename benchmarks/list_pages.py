"""List pages at a million rows: how long the pages analysts use all day take.

Fills a dedicated PostgreSQL database (its name must contain "bench"; it is
emptied) with N invoices and proportional customers, contracts, payments and
external ids, using set-based SQL, then requests each list page through
Django's test client as a signed-in user and prints the median and p95 per
page, the SQL queries each page ran, and a baseline (the login page, no data
access) measured in the same run.

    uv run python benchmarks/list_pages.py                      # 1,000,000 invoices
    uv run python benchmarks/list_pages.py --invoices 200000    # quicker
    uv run python benchmarks/list_pages.py --skip-fill          # re-measure the same data

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench
(--database-url); it is created if missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bench import get_ms, p95, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench"


FILL_SQL = """
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
       1 + g %% 2, (ARRAY['active', 'active', 'active', 'on_hold', 'closed'])[1 + g %% 5],
       CASE WHEN g %% 2 = 0 THEN 'USD' ELSE 'EUR' END, 30, '1 Main St', '', 'Springfield', '', '00000',
       CASE WHEN g %% 2 = 0 THEN 'US' ELSE 'DE' END, '', '', '', false, '', now(), now()
FROM generate_series(1, %(customers)s) AS g;

INSERT INTO revops_contract (number, customer_id, status, start_date, end_date, billing_frequency,
    currency, entitlement_reference, correlation_id, activated_at, cancelled_at, cancellation_reason,
    created_at, updated_at)
SELECT 'CT-' || lpad(g::text, 8, '0'), c.id,
       (ARRAY['active', 'active', 'draft', 'expired'])[1 + g %% 4],
       date '2023-01-01' + (g %% 1000), date '2023-01-01' + (g %% 1000) + 364,
       (ARRAY['monthly', 'quarterly', 'annual'])[1 + g %% 3], c.currency, '', md5('ct' || g)::uuid,
       CASE WHEN g %% 4 IN (0, 1, 3) THEN now() END, NULL, '', now(), now()
FROM generate_series(1, %(contracts)s) AS g
JOIN revops_customer c ON c.id = 1 + g %% %(customers)s;

INSERT INTO revops_invoice (number, customer_id, contract_id, legal_entity_id, currency, issue_date,
    due_date, period_start, period_end, status, tax_mode, subtotal, tax_total, total, amount_paid,
    amount_credited, amount_due, correlation_id, memo, created_at, updated_at)
SELECT 'INV-' || lpad(g::text, 9, '0'), c.id, NULL, c.legal_entity_id, c.currency,
       date '2023-01-01' + (g %% 1400), date '2023-01-01' + (g %% 1400) + 30, NULL, NULL, s.status,
       'exclusive', s.subtotal, s.tax, s.subtotal + s.tax,
       CASE WHEN s.status = 'paid' THEN s.subtotal + s.tax ELSE 0 END, 0,
       CASE WHEN s.status IN ('open', 'draft', 'uncollectible') THEN s.subtotal + s.tax ELSE 0 END,
       md5('inv' || g)::uuid, '', now(), now()
FROM generate_series(1, %(invoices)s) AS g
JOIN revops_customer c ON c.id = 1 + (g::bigint * 7919) %% %(customers)s
CROSS JOIN LATERAL (
    SELECT (ARRAY['paid', 'paid', 'paid', 'paid', 'paid', 'open', 'open', 'void', 'draft',
                  'uncollectible'])[1 + g %% 10] AS status,
           (100 + g %% 900)::numeric AS subtotal,
           round((100 + g %% 900) * 0.08, 2) AS tax
) AS s;

INSERT INTO revops_payment (number, customer_id, legal_entity_id, amount, currency, received_date,
    method, gateway, gateway_reference, status, amount_applied, correlation_id, memo, created_at,
    updated_at)
SELECT 'PAY-' || lpad(g::text, 9, '0'), c.id, c.legal_entity_id, 50 + g %% 950, c.currency,
       date '2023-01-01' + (g %% 1400), 'bank_transfer', '', '', s.status,
       CASE s.status WHEN 'applied' THEN 50 + g %% 950 WHEN 'partially_applied' THEN 25 ELSE 0 END,
       md5('pay' || g)::uuid, '', now(), now()
FROM generate_series(1, %(payments)s) AS g
JOIN revops_customer c ON c.id = 1 + (g::bigint * 104729) %% %(customers)s
CROSS JOIN LATERAL (
    SELECT (ARRAY['applied', 'applied', 'applied', 'partially_applied', 'unapplied',
                  'received'])[1 + g %% 6] AS status
) AS s;

INSERT INTO revops_externalref (system, object_type, external_id, content_type_id, object_id, created_at)
SELECT 'stripe', 'invoice', 'in_' || md5('ext' || g), %(invoice_ct)s, g, now()
FROM generate_series(1, %(invoices)s, 10) AS g;

ANALYZE;
"""

PAGES = [
    ("invoices: default (newest first)", "/invoices/"),
    ("invoices: status=open", "/invoices/?status=open"),
    ("invoices: entity + status, by due date", "/invoices/?legal_entity=2&status=open&sort=due_date"),
    ("invoices: overdue", "/invoices/?overdue=on"),
    ("invoices: all, by due date", "/invoices/?sort=due_date"),
    ("invoices: search number", "/invoices/?q=INV-000500000"),
    ("invoices: search external id", "/invoices/?q={external_id}"),
    ("invoices: search customer name", "/invoices/?q=Hooli%20{fragment}"),
    ("customers: default (by name)", "/customers/"),
    ("customers: search name fragment", "/customers/?q={fragment}"),
    ("contracts: status=active", "/contracts/?status=active"),
    ("payments: status=unapplied", "/payments/?status=unapplied"),
    ("dashboard (money totals cached 60 s)", "/"),
]


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-fill", action="store_true")
    args = parser.parse_args()

    setup_django(args.database_url, collectstatic=True)
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client

    from revops.models import Customer, ExternalRef, Invoice

    sizes = {
        "invoices": args.invoices,
        "customers": max(100, args.invoices // 10),
        "contracts": max(100, args.invoices // 5),
        "payments": max(100, args.invoices // 2),
        "invoice_ct": ContentType.objects.get_for_model(Invoice).pk,
    }
    if not args.skip_fill:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL % {k: int(v) for k, v in sizes.items()})
        print(
            f"filled {sizes['invoices']:,} invoices, {sizes['customers']:,} customers, "
            f"{sizes['contracts']:,} contracts, {sizes['payments']:,} payments "
            f"in {time.perf_counter() - started:.1f} s"
        )

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    anonymous = Client()
    hooli = Customer.objects.filter(name__startswith="Hooli").order_by("id").first()
    fragment = hooli.name.split()[1]
    external_id = ExternalRef.objects.filter(object_type="invoice").order_by("-id").first().external_id

    baseline = get_ms(anonymous, "/login/", args.repeat)
    base_median = statistics.median(baseline)
    print(f"\n{'page':45} {'median ms':>10} {'p95 ms':>8} {'x login':>8} {'queries':>8}")
    print(
        f"{'baseline: login page (no data access)':45} {base_median:10.1f} {p95(baseline):8.1f} {1:8.1f} {'-':>8}"
    )
    for label, url in PAGES:
        url = url.format(fragment=fragment, external_id=external_id)
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            client.get(url)
        samples = get_ms(client, url, args.repeat)
        median = statistics.median(samples)
        print(f"{label:45} {median:10.1f} {p95(samples):8.1f} {median / base_median:8.1f} {counter.count:8d}")


if __name__ == "__main__":
    main()
