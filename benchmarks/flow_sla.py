"""Business SLAs at scale: what the dashboard's SLA counts and a Flow page cost.

Fills a dedicated PostgreSQL database (its name must contain "bench"; it is
emptied) with N contracts' flows spread over the last 120 days, written as
business events in set-based SQL: deal won, contract created and activated, six
invoices issued per contract (each with its ERP posting and revenue hand-off),
and a payment received and applied per invoice; some steps late or still
pending, so every SLA has breaches to count. Then it measures, each --repeat
times, the dashboard's four SLA counts (`sla_breach_counts`), one breach list
page, one Flow page's selector (`flow_detail`), and as a baseline measured in
the same run the dashboard's own "recent business events" query, and prints
medians with their ratio to the baseline. The dashboard keeps its counts five
minutes; both the fresh count and the kept one are measured.

    uv run python benchmarks/flow_sla.py                    # 100,000 contracts (about 2.6M events)
    uv run python benchmarks/flow_sla.py --contracts 20000  # quicker
    uv run python benchmarks/flow_sla.py --skip-fill        # re-measure the same data

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench_flow
(--database-url); it is created if missing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _bench import setup_django, timed_ms

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_flow"
INVOICES_PER_CONTRACT = 6


# Times are hours before now; g is the contract, k its invoice (1..6), each 20 days apart.
FILL_SQL = """
TRUNCATE revops_businessevent, connectors_outboundposting, revops_paymentapplication, revops_payment, revops_invoice, revops_contract,
         revops_customer RESTART IDENTITY CASCADE;

INSERT INTO revops_customer (number, name, legal_entity_id, status, currency, payment_terms_days,
    address_line1, address_line2, city, region, postal_code, country, tax_id, tax_country, tax_region,
    tax_exempt, exemption_certificate, created_at, updated_at)
SELECT 'C' || lpad(g::text, 8, '0'), 'Customer ' || g, %(entity)s, 'active', 'USD', 30, '1 Main St', '',
       'Springfield', '', '00000', 'US', '', '', '', false, '', now(), now()
FROM generate_series(1, %(contracts)s / 4) AS g;

INSERT INTO revops_contract (number, customer_id, status, start_date, end_date, billing_frequency,
    currency, entitlement_reference, correlation_id, activated_at, cancelled_at, cancellation_reason,
    created_at, updated_at)
SELECT 'CT-' || lpad(g::text, 8, '0'), 1 + g %% (%(contracts)s / 4), 'active', current_date - 130, NULL,
       'monthly', 'USD', '', md5('ct' || g)::uuid, now(), NULL, '', now(), now()
FROM generate_series(1, %(contracts)s) AS g;

INSERT INTO revops_invoice (number, customer_id, contract_id, legal_entity_id, currency, issue_date,
    due_date, period_start, period_end, status, tax_mode, subtotal, tax_total, total, amount_paid,
    amount_credited, amount_due, correlation_id, memo, created_at, updated_at)
SELECT 'INV-' || c.id || '-' || k, c.customer_id, c.id, %(entity)s, 'USD', current_date - 125 + 20 * k,
       current_date - 95 + 20 * k, current_date - 145 + 20 * k, current_date - 126 + 20 * k, 'paid',
       'exclusive', 100, 8, 108, 108, 0, 0, c.correlation_id, '', now(), now()
FROM revops_contract c CROSS JOIN generate_series(1, %(per_contract)s) AS k
WHERE current_date - 125 + 20 * k <= current_date;

INSERT INTO revops_payment (number, customer_id, legal_entity_id, amount, currency, received_date,
    method, gateway, gateway_reference, status, amount_applied, correlation_id, memo, created_at,
    updated_at)
SELECT 'PAY-' || i.id, i.customer_id, %(entity)s, 108, 'USD', i.issue_date + 10, 'bank_transfer', '', '',
       'applied', 108, i.correlation_id, '', now(), now()
FROM revops_invoice i;

INSERT INTO revops_paymentapplication (payment_id, invoice_id, amount, applied_date, status, created_at,
    updated_at)
SELECT p.id, p.id, 108, p.received_date, 'active', now(), now() FROM revops_payment p;

-- Events: (type, subject type, subject id, hours ago, correlation id).
CREATE TEMP TABLE flow_events AS
SELECT 'deal.won' AS type, %(contract_ct)s AS ct, c.id AS sid, 3000 - (c.id %% 2900)::float AS ago,
       c.correlation_id AS cid, c.number AS label
FROM revops_contract c
UNION ALL SELECT 'contract.created', %(contract_ct)s, c.id, 3000 - (c.id %% 2900) - 0.01, c.correlation_id, c.number
FROM revops_contract c
UNION ALL SELECT 'contract.activated', %(contract_ct)s, c.id,
       3000 - (c.id %% 2900) - CASE WHEN c.id %% 50 = 0 THEN 30 ELSE 2 END, c.correlation_id, c.number
FROM revops_contract c
UNION ALL SELECT 'invoice.issued', %(invoice_ct)s, i.id,
       (current_date - i.period_end - 1) * 24 - CASE WHEN i.id %% 40 = 0 THEN 80 ELSE 20 END,
       i.correlation_id, i.number
FROM revops_invoice i
UNION ALL SELECT 'revenue.handed_off', %(invoice_ct)s, i.id,
       (current_date - i.period_end - 1) * 24 - 20 - CASE WHEN i.id %% 30 = 0 THEN 6 ELSE 1 END,
       i.correlation_id, i.number
FROM revops_invoice i WHERE i.id %% 97 <> 0
UNION ALL SELECT 'payment.received', %(payment_ct)s, p.id, (current_date - p.received_date) * 24, p.correlation_id,
       p.number
FROM revops_payment p
UNION ALL SELECT 'payment.applied', %(payment_ct)s, p.id,
       (current_date - p.received_date) * 24 - CASE WHEN p.id %% 25 = 0 THEN 60 ELSE 5 END, p.correlation_id,
       p.number
FROM revops_payment p;

INSERT INTO revops_businessevent (type, subject_type_id, subject_id, subject_label, source, actor, occurred_at,
    recorded_at, correlation_id, payload)
SELECT type, ct, sid, label, 'bench', 'benchmark', now() - make_interval(secs => ago * 3600),
       now() - make_interval(secs => ago * 3600), cid, '{}'::jsonb
FROM flow_events WHERE ago >= 0
ORDER BY ago DESC;

INSERT INTO connectors_outboundposting (connector_id, content_type_id, object_id, document_label, revision,
    action, record_type, external_id, idempotency_key, status, attempts, request, response, erp_id,
    last_error, correlation_id, created_at, updated_at, posted_at)
SELECT %(connector)s, %(invoice_ct)s, i.id, i.number, 1, 'create', 'invoice', 'INV-US01-' || i.number, 'bench-' || i.id,
       CASE WHEN i.id %% 97 = 0 THEN 'pending' ELSE 'posted' END, 1, '{}', '{}',
       CASE WHEN i.id %% 97 = 0 THEN '' ELSE 'ns-' || i.id END, '', i.correlation_id, e.occurred_at, now(),
       CASE WHEN i.id %% 97 = 0 THEN NULL ELSE e.occurred_at + interval '1 hour' END
FROM revops_invoice i JOIN revops_businessevent e
  ON e.subject_type_id = %(invoice_ct)s AND e.subject_id = i.id AND e.type = 'invoice.issued';

ANALYZE;
"""


def fill(contracts: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from connectors.models import Connector
    from revops.models import Contract, Invoice, LegalEntity, Payment

    entity, _ = LegalEntity.objects.get_or_create(
        code="US01",
        defaults={"name": "Acme Cloud Inc.", "country": "US", "functional_currency": "USD"},
    )
    connector, _ = Connector.objects.get_or_create(
        name="netsuite-bench",
        defaults={
            "kind": "netsuite",
            "legal_entity": entity,
            "direction": "push",
            "base_url": "https://erp.example.com",
        },
    )
    ids = {
        "entity": entity.pk,
        "connector": connector.pk,
        "contract_ct": ContentType.objects.get_for_model(Contract).pk,
        "invoice_ct": ContentType.objects.get_for_model(Invoice).pk,
        "payment_ct": ContentType.objects.get_for_model(Payment).pk,
        "contracts": contracts,
        "per_contract": INVOICES_PER_CONTRACT,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, ids)
    print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)


def measure(repeat: int) -> None:
    from revops.models import BusinessEvent, Contract
    from revops.selectors.flow import flow_detail
    from revops.selectors.sla import (
        SLAS,
        _breaching,
        breach_rows,
        dashboard_sla_counts,
        sla_breach_counts,
        sla_breaches,
    )

    contract = Contract.objects.order_by("id").first()
    print(f"{BusinessEvent.objects.count():,} business events, {Contract.objects.count():,} contracts")
    print("breaching now:", {row.sla.key: row.count for row in sla_breach_counts()})

    def baseline():
        list(BusinessEvent.objects.order_by("-occurred_at", "-id")[:15])

    def one(sla):
        import datetime as dt

        from django.utils import timezone

        now = timezone.now()
        return lambda: _breaching(sla, now=now, since=now - dt.timedelta(days=30)).order_by()[:1001].count()

    def page():
        sla = SLAS["payment_posting"]
        breach_rows(sla, list(sla_breaches(sla)[:50]))

    cases = [("baseline: recent business events (dashboard)", baseline)]
    cases += [(f"count: {sla.label}", one(sla)) for sla in SLAS.values()]
    cases += [
        ("dashboard: all four SLA counts, counted afresh", sla_breach_counts),
        ("dashboard: the four counts as kept (5 min)", dashboard_sla_counts),
        ("breach list: payment posting, first 50", page),
        ("flow page selector: one contract, 6 invoices", lambda: flow_detail(contract.correlation_id)),
    ]
    results = [(label, statistics.median(timed_ms(fn, repeat, warmup=1))) for label, fn in cases]
    base = results[0][1]
    print(f"\n{'measure':<48} {'median ms':>10} {'× baseline':>11}")
    for label, median in results:
        print(f"{label:<48} {median:>10.1f} {median / base:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip-fill", action="store_true")
    args = parser.parse_args()
    setup_django(args.database_url)
    if not args.skip_fill:
        fill(args.contracts)
    measure(args.repeat)


if __name__ == "__main__":
    main()
