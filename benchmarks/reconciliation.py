"""Reconciliation at a million records a side: billing invoices ⇄ ERP invoices.

Fills a dedicated PostgreSQL database (its name must contain "bench"; it is
emptied) with N billing invoices and an ERP snapshot of the same invoices with
a few percent of differences, set-based:

- 0.5 % of invoices missing from the ERP, and as many ERP invoices unknown to billing;
- 0.5 % renumbered by the ERP (found by its external id, which is revops' number);
- 1 % off by a cent (within tolerance), 0.5 % off by 1 % (suggested),
  0.25 % off by 15 % and 0.2 % with a different tax (breaks with the difference named).

Then it runs the reconciliation (three ranked rules) --repeat times from a clean
slate (no runs, no breaks), and once more on top of the last to show a repeat
run (its breaks counted again, not opened), printing each run's wall time and
its phases. Baselines measured in the same run show the machine's state: a
plain COUNT(*) hash join of the two tables on the invoice number, and a copy of
both tables' rows into an unlogged table.

    uv run python benchmarks/reconciliation.py                    # 1,000,000 a side
    uv run python benchmarks/reconciliation.py --invoices 100000  # quicker
    uv run python benchmarks/reconciliation.py --skip-fill        # re-measure the same data

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench_recon
(--database-url); it is created if missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bench import setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_recon"
START = "2026-01-01"


FILL_SQL = """
TRUNCATE reconciliation_runline, reconciliation_runtotal, reconciliation_run,
         reconciliation_externalrecord, revops_paymentapplication, revops_payment, revops_invoiceline,
         revops_creditnoteline, revops_creditnote, revops_invoice, revops_usagerecord,
         revops_contractline, revops_contractamendment, revops_contract, revops_customercontact,
         revops_externalref, revops_customer, revops_legalentity RESTART IDENTITY CASCADE;

INSERT INTO revops_legalentity (code, name, country, functional_currency, tax_registration_number,
                                created_at, updated_at)
VALUES ('US01', 'Acme Cloud Inc.', 'US', 'USD', '12-3456789', now(), now());

INSERT INTO revops_customer (number, name, legal_entity_id, status, currency, payment_terms_days,
    address_line1, address_line2, city, region, postal_code, country, tax_id, tax_country, tax_region,
    tax_exempt, exemption_certificate, created_at, updated_at)
SELECT 'C' || lpad(g::text, 8, '0'), 'Customer ' || g, 1, 'active', 'USD', 30, '1 Main St', '',
       'Springfield', '', '00000', 'US', '', 'US', '', false, '', now(), now()
FROM generate_series(1, %(customers)s) AS g;

INSERT INTO revops_invoice (number, customer_id, contract_id, legal_entity_id, currency, issue_date,
    due_date, period_start, period_end, status, tax_mode, subtotal, tax_total, total, amount_paid,
    amount_credited, amount_due, correlation_id, memo, created_at, updated_at)
SELECT 'INV-' || lpad(g::text, 9, '0'), 1 + (g::bigint * 7919) %% %(customers)s, NULL, 1, 'USD',
       date %(start)s + (g %% 89), date %(start)s + (g %% 89) + 30, NULL, NULL,
       CASE WHEN g %% 3 = 0 THEN 'open' ELSE 'paid' END, 'exclusive',
       s.subtotal, s.tax, s.subtotal + s.tax,
       CASE WHEN g %% 3 = 0 THEN 0 ELSE s.subtotal + s.tax END, 0,
       CASE WHEN g %% 3 = 0 THEN s.subtotal + s.tax ELSE 0 END,
       md5('inv' || g)::uuid, '', now(), now()
FROM generate_series(1, %(invoices)s) AS g
CROSS JOIN LATERAL (
    SELECT (100 + g %% 9000)::numeric AS subtotal, round((100 + g %% 9000) * 0.08, 2) AS tax
) AS s;

-- The ERP's copy: g %% 200 = 0 missing; = 1 renumbered; = 2 off by 1 %%; g %% 400 = 3 off by 15 %%;
-- g %% 500 = 4 other tax; g %% 100 = 5 off by a cent.
INSERT INTO reconciliation_externalrecord (system, object_type, external_id, reference, customer_key,
    legal_entity_code, amount, tax_amount, currency, status, record_date, loaded_at)
SELECT 'netsuite', 'invoice',
       CASE WHEN g %% 200 = 1 THEN i.number ELSE 'ns-' || g END,
       CASE WHEN g %% 200 = 1 THEN 'NS' || g ELSE i.number END,
       c.number, 'US01',
       CASE WHEN g %% 200 = 2 THEN round(i.total * 1.01, 2)
            WHEN g %% 400 = 3 THEN round(i.total * 1.15, 2)
            WHEN g %% 100 = 5 THEN i.total + 0.01
            ELSE i.total END,
       CASE WHEN g %% 500 = 4 THEN i.tax_total + 1 ELSE i.tax_total END,
       'USD', i.status, i.issue_date, now()
FROM generate_series(1, %(invoices)s) AS g
JOIN revops_invoice i ON i.id = g
JOIN revops_customer c ON c.id = i.customer_id
WHERE g %% 200 <> 0;

INSERT INTO reconciliation_externalrecord (system, object_type, external_id, reference, customer_key,
    legal_entity_code, amount, tax_amount, currency, status, record_date, loaded_at)
SELECT 'netsuite', 'invoice', 'ns-extra-' || g, 'NSX' || g, 'C' || lpad((1 + g %% %(customers)s)::text, 8, '0'),
       'US01', 1000 + g %% 5000 + 0.37, 0, 'USD', 'open', date %(start)s + (g %% 89), now()
FROM generate_series(1, %(invoices)s / 200) AS g;
"""

# What autovacuum does to tables long before a real reconciliation reads them: planner
# statistics, and rows marked visible to all (without it, the first run after the fill
# would also write a hint bit on every row it reads, and measure that).
SETTLE_SQL = "VACUUM (ANALYZE) revops_customer, revops_invoice, reconciliation_externalrecord"


def _reset_results(cursor) -> None:
    cursor.execute(
        """TRUNCATE reconciliation_runline, reconciliation_runtotal, reconciliation_run,
        reconciliation_matchdecision, exceptions_queue_exceptioncomment, exceptions_queue_exceptionitem,
        exceptions_queue_historicalexceptionitem RESTART IDENTITY CASCADE"""
    )


def _baselines(cursor) -> tuple[float, float]:
    started = time.perf_counter()
    cursor.execute(
        """SELECT COUNT(*) FROM revops_invoice i
        JOIN reconciliation_externalrecord e ON e.reference = i.number AND e.amount = i.total"""
    )
    cursor.fetchone()
    join = time.perf_counter() - started
    started = time.perf_counter()
    cursor.execute("DROP TABLE IF EXISTS bench_copy")
    cursor.execute(
        """CREATE UNLOGGED TABLE bench_copy AS
        SELECT id::text AS k, number, issue_date, total, tax_total, currency, status FROM revops_invoice
        UNION ALL SELECT external_id, reference, record_date, amount, tax_amount, currency, status
        FROM reconciliation_externalrecord"""
    )
    copy = time.perf_counter() - started
    cursor.execute("DROP TABLE bench_copy")
    return join, copy


def _print_steps(run) -> None:
    for phase, seconds in run.phase_times:
        print(f"    {phase:<48} {seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-fill", action="store_true")
    args = parser.parse_args()

    setup_django(args.database_url)
    import datetime as dt

    from django.db import connection

    from reconciliation import services
    from reconciliation.models import Kind, Reconciliation
    from reconciliation.runs import run_now
    from revops.actors import Actor

    actor = Actor.for_system("benchmark", "reconciliation benchmark")
    if not args.skip_fill:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                FILL_SQL,
                {"customers": max(10, args.invoices // 50), "invoices": args.invoices, "start": START},
            )
            cursor.execute(SETTLE_SQL)
        print(
            f"filled {args.invoices:,} invoices and their ERP copy in {time.perf_counter() - started:.1f} s"
        )

    recon = Reconciliation.objects.filter(name="Billing ⇄ NetSuite (benchmark)").first()
    if recon is None:
        recon = services.reconciliation_save(
            name="Billing ⇄ NetSuite (benchmark)",
            kind=Kind.INVOICES_ERP,
            external_system="netsuite",
            actor=actor,
            reason="benchmark",
        )
        for position, name, values in (
            (
                10,
                "Same number, same amounts",
                {"method": "exact_reference", "amount_tolerance": "0.01", "compare_tax": True},
            ),
            (
                20,
                "Same number, amount within 2 %",
                {"method": "exact_reference", "tolerance_percent": "2", "action": "suggest"},
            ),
            (
                30,
                "Same customer and amount within 3 days",
                {"method": "amount_customer_date", "date_window_days": 3, "action": "suggest"},
            ),
        ):
            services.rule_save(
                reconciliation=recon, actor=actor, reason="benchmark", position=position, name=name, **values
            )

    date_from, date_to = dt.date.fromisoformat(START), dt.date.fromisoformat(START) + dt.timedelta(days=89)
    walls, joins, copies = [], [], []
    for n in range(args.repeat):
        with connection.cursor() as cursor:
            _reset_results(cursor)
            join, copy = _baselines(cursor)
        joins.append(join)
        copies.append(copy)
        started = time.perf_counter()
        run = run_now(reconciliation=recon, actor=actor, date_from=date_from, date_to=date_to)
        wall = time.perf_counter() - started
        walls.append(wall)
        assert run.status == "succeeded", run.error
        print(
            f"run {n + 1}: {wall:.1f} s — {run.left_count:,} ⇄ {run.right_count:,} records, "
            f"{run.matched_groups:,} matched, {run.suggested_groups:,} suggested, "
            f"{run.left_unmatched:,} + {run.right_unmatched:,} unmatched, {run.breaks_opened:,} breaks opened"
        )
        _print_steps(run)
        print(f"    baselines: COUNT(*) join {join:.2f} s, copy of both tables {copy:.2f} s")

    started = time.perf_counter()
    again = run_now(reconciliation=recon, actor=actor, date_from=date_from, date_to=date_to)
    repeat_wall = time.perf_counter() - started
    print(
        f"repeat run on top: {repeat_wall:.1f} s — {again.breaks_seen_again:,} breaks counted again, "
        f"{again.breaks_opened:,} opened"
    )
    _print_steps(again)
    print()
    print(
        f"median of {args.repeat}: run {statistics.median(walls):.1f} s; baselines: COUNT(*) join "
        f"{statistics.median(joins):.2f} s, copy {statistics.median(copies):.2f} s; run / join "
        f"{statistics.median(walls) / statistics.median(joins):.1f}×, run / copy "
        f"{statistics.median(walls) / statistics.median(copies):.1f}×"
    )
    print("(on a busy machine compare the ratios, not only the seconds)")


if __name__ == "__main__":
    main()
